import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runStripes, startingStripes, stripesDoneThrough, type StripeBatch } from '../../src/domain/batch-stripes.ts';

/** Resolves after `turns` trips through the microtask queue: batches finish out of order. */
const after = (turns: number) => {
  let chain = Promise.resolve();
  for (let i = 0; i < turns; i++) chain = chain.then(() => undefined);
  return chain;
};

const byId = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

describe('runStripes', () => {
  it('takes every staged row once, each stripe in id order and one batch at a time, the stripes at once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ id: fc.integer({ min: 1, max: 500 }), key: fc.nat(40) }), {
          maxLength: 120,
          selector: (row) => row.id,
        }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 50 }),
        async (rows, batchSize, stripes, maxBatches, delays) => {
          // A row's stripe comes from its key, as staging_stripe's from (merchant, reference).
          const stripeOf = (row: { key: number }) => row.key % stripes;
          const staged = rows.map((row) => ({ id: BigInt(row.id), stripe: stripeOf(row) }));
          const taken: bigint[] = [];
          const runningByStripe = new Map<number, number>();
          let running = 0;
          let most = 0;
          let batches = 0;
          let cursors = startingStripes(stripes, 0n);
          const lastEnd = new Map<number, bigint>();
          for (let runs = 0; ; runs++) {
            expect(runs).toBeLessThanOrEqual(Math.ceil((rows.length + stripes) / maxBatches) + stripes + 1);
            const end = await runStripes({
              stripes: cursors,
              batchSize,
              maxBatches,
              run: async (batch: StripeBatch) => {
                expect(batch.stripes).toBe(stripes);
                expect(runningByStripe.get(batch.stripe) ?? 0).toBe(0);
                runningByStripe.set(batch.stripe, 1);
                running += 1;
                most = Math.max(most, running);
                await after(delays[batches++ % delays.length] ?? 0);
                const ids = staged
                  .filter((row) => row.stripe === batch.stripe && row.id > batch.afterId)
                  .map((row) => row.id)
                  .sort(byId)
                  .slice(0, batchSize);
                running -= 1;
                runningByStripe.set(batch.stripe, 0);
                return { rows: ids.length, batchEndId: ids.at(-1) ?? null, ids };
              },
              finished: (batch, result) => {
                expect(batch.afterId).toBeGreaterThanOrEqual(lastEnd.get(batch.stripe) ?? 0n);
                if (result.batchEndId !== null) lastEnd.set(batch.stripe, result.batchEndId);
                taken.push(...result.ids);
              },
            });
            cursors = end.stripes;
            if (end.exhausted) {
              expect(stripesDoneThrough(end.stripes)).toBe(
                staged
                  .map((row) => row.id)
                  .sort(byId)
                  .at(-1) ?? 0n,
              );
              break;
            }
          }
          expect(most).toBeLessThanOrEqual(stripes);
          expect([...taken].sort(byId)).toEqual(staged.map((row) => row.id).sort(byId));
        },
      ),
    );
  });

  it('counts the lowest cursor as done while stripes remain and the highest once all ran out', () => {
    const at = (afterId: bigint, exhausted: boolean) => ({ afterId, exhausted });
    expect(stripesDoneThrough([at(7n, false), at(3n, false), at(9n, false)])).toBe(3n);
    expect(stripesDoneThrough([at(7n, false), at(3n, true), at(9n, false)])).toBe(7n);
    expect(stripesDoneThrough([at(7n, true), at(3n, true), at(9n, true)])).toBe(9n);
  });

  it('refuses no stripes, a bad batch size, and a stripe that goes backwards', async () => {
    const base = { batchSize: 2, maxBatches: 3, finished: () => undefined };
    const none = async () => ({ rows: 0, batchEndId: null });
    await expect(runStripes({ ...base, stripes: [], run: none })).rejects.toThrow(/at least one stripe/);
    await expect(runStripes({ ...base, stripes: startingStripes(1, 0n), batchSize: 0, run: none })).rejects.toThrow(
      /positive integer/,
    );
    const backwards = async () => ({ rows: 1, batchEndId: 5n });
    await expect(runStripes({ ...base, stripes: startingStripes(1, 5n), run: backwards })).rejects.toThrow(
      /went backwards/,
    );
    expect(() => startingStripes(0, 0n)).toThrow(/positive integer/);
  });
});
