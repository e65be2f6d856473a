import { defineConfig } from 'vitest/config';

// npm run test:chaos: the chaos scenarios of test/chaos/, apart from `npm test` (vitest.config.ts
// does not include them). Each file starts, breaks and judges a stack of its own; they run one
// after the other, since two at once would share 2 cores and blur every timing.
export default defineConfig({
  test: {
    reporters: ['default'],
    include: ['test/chaos/**/*.test.ts'],
    globalSetup: ['test/chaos/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 180_000,
  },
});
