import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'src/generated/', '.data/', '.tools/', 'coverage/', 'dist/', '.build/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      // Forgetting to await an activity, a transaction or a reply is a bug, not a style.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Raw SQL only through tagged templates: string-built SQL invites injection.
      'no-restricted-properties': [
        'error',
        { property: '$queryRawUnsafe', message: 'Use the $queryRaw tagged template.' },
        { property: '$executeRawUnsafe', message: 'Use the $executeRaw tagged template.' },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
  {
    // Workflow code is replayed and must be deterministic: no I/O, no Node built-ins, no wall
    // clock, no randomness, no runtime imports of activities or infrastructure.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules, ...builtinModules.map((name) => `node:${name}`)].map((name) => ({
            name,
            message: 'Workflows cannot use Node built-ins.',
          })),
          patterns: [
            {
              regex:
                '^((\\.\\./)+(activities|src/(?!domain/))|@temporalio/(client|worker|activity)|@prisma/|pg$|fastify)',
              allowTypeImports: true,
              message: 'Workflows import only @temporalio/workflow, src/domain and types.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message:
            'Use workflow time: Date is deterministic inside workflows only via the SDK; prefer workflowInfo()/sleep.',
        },
        { object: 'Math', property: 'random', message: 'Use uuid4() or deterministic data.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop.' },
        { name: 'fetch', message: 'Network calls belong in activities.' },
        { name: 'process', message: 'Workflows cannot read the environment.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'new Date() reads the clock: pass times in, or use the SDK-provided deterministic Date sparingly.',
        },
      ],
    },
  },
  {
    // Domain code is imported by workflows, so the same rules hold there.
    files: ['src/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules, ...builtinModules.map((name) => `node:${name}`)].map((name) => ({
            name,
            message: 'Domain code is pure.',
          })),
          patterns: [
            {
              regex: '^(\\.\\./(?!domain/)|@prisma/|@temporalio/|pg$|fastify)',
              allowTypeImports: true,
              message: 'Domain code is pure.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Domain code takes time as an argument.' },
        { object: 'Math', property: 'random', message: 'Domain code is deterministic.' },
      ],
    },
  },
  prettier,
);
