import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runBatchWindow, type BatchPlan, type BatchRange } from '../../src/domain/batch-window.ts';

/** Staged ids (sorted, gaps allowed) planned like planStagedBatches does. */
function planner(ids: bigint[], batchSize: number) {
  return async (afterId: bigint, count: number): Promise<BatchPlan> => {
    const next = ids.filter((id) => id > afterId).slice(0, batchSize * count);
    const untilIds: bigint[] = [];
    for (let i = batchSize - 1; i < next.length + batchSize - 1; i += batchSize) {
      untilIds.push(next[Math.min(i, next.length - 1)] as bigint);
    }
    return { untilIds, more: next.length === batchSize * count };
  };
}

/** Resolves after `turns` trips through the microtask queue: batches finish out of order. */
const after = (turns: number) => {
  let chain = Promise.resolve();
  for (let i = 0; i < turns; i++) chain = chain.then(() => undefined);
  return chain;
};

describe('runBatchWindow', () => {
  it('covers every id exactly once, in disjoint ranges, never more than parallelBatches at once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 500 }), { maxLength: 120 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 50 }),
        async (raw, batchSize, parallelBatches, maxBatches, delays) => {
          const ids = raw.map(BigInt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          const plan = planner(ids, batchSize);
          const ranges: BatchRange[] = [];
          const seen: bigint[] = [];
          let running = 0;
          let most = 0;
          let startAfterId = 0n;
          let runs = 0;
          for (;;) {
            const end = await runBatchWindow({
              startAfterId,
              parallelBatches,
              maxBatches,
              plan,
              run: async (range) => {
                running += 1;
                most = Math.max(most, running);
                await after(delays[ranges.length % delays.length] ?? 0);
                ranges.push(range);
                running -= 1;
                return ids.filter((id) => id > range.afterId && id <= range.untilId);
              },
              finished: (_range, taken) => seen.push(...taken),
            });
            runs += 1;
            expect(running).toBe(0);
            startAfterId = end.afterId;
            if (end.exhausted) break;
            expect(runs).toBeLessThanOrEqual(ids.length + 2);
          }
          expect(most).toBeLessThanOrEqual(parallelBatches);
          expect([...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(ids);
          for (const range of ranges) {
            expect(range.untilId).toBeGreaterThan(range.afterId);
            expect(ids.filter((id) => id > range.afterId && id <= range.untilId).length).toBeLessThanOrEqual(batchSize);
          }
          expect(startAfterId).toBe(ids.at(-1) ?? 0n);
        },
      ),
    );
  });

  it('refuses a parallelism that is not a positive integer', async () => {
    const options = {
      startAfterId: 0n,
      maxBatches: 1,
      plan: planner([], 1),
      run: async () => 0,
      finished: () => undefined,
    };
    await expect(runBatchWindow({ ...options, parallelBatches: 0 })).rejects.toThrow(/positive integer/);
    await expect(runBatchWindow({ ...options, parallelBatches: 1.5 })).rejects.toThrow(/positive integer/);
  });
});
