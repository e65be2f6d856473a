// Runs an import's batches a few at a time over disjoint id ranges. Pure (promises only). Kept
// for the import runs that took the `import-parallel-batches` branch before stripes
// (src/domain/batch-stripes.ts, which new runs and the benchmark use): their histories replay it.
//
// Why more than one at a time: a batch holds its account locks (external_funding's among them)
// only from its ledger posting to its commit, the last part of it. While one batch posts,
// the next can read, validate, deduplicate and write its rows on the other core.

export interface BatchRange {
  /** The batch takes unprocessed staged rows with afterId < id <= untilId. */
  afterId: bigint;
  untilId: bigint;
}

export interface BatchPlan {
  /** The planned batches' last ids, in order; each batch holds up to batchSize rows. */
  untilIds: bigint[];
  /** False when the rows ran out before the planned batches were full: nothing lies beyond. */
  more: boolean;
}

export interface BatchWindowOptions<T> {
  startAfterId: bigint;
  /** Batches running at once, at least 1. */
  parallelBatches: number;
  /** Batches to start at most (a run continues as new after them). */
  maxBatches: number;
  plan: (afterId: bigint, count: number) => Promise<BatchPlan>;
  run: (range: BatchRange) => Promise<T>;
  /** Called once per finished batch, in the order they finish. */
  finished: (range: BatchRange, result: T) => void;
}

export interface BatchWindowEnd {
  /** Every batch started has finished; the next one starts after this id. */
  afterId: bigint;
  /** No staged rows were left beyond afterId when planned. */
  exhausted: boolean;
}

/** Starts batches in id order, never more than parallelBatches at once; waits for all to finish. */
export async function runBatchWindow<T>(options: BatchWindowOptions<T>): Promise<BatchWindowEnd> {
  if (!Number.isInteger(options.parallelBatches) || options.parallelBatches < 1) {
    throw new Error(`parallelBatches must be a positive integer, got ${options.parallelBatches}`);
  }
  let plannedUntil = options.startAfterId;
  let exhausted = false;
  let started = 0;
  const planned: BatchRange[] = [];
  const running = new Map<number, Promise<{ key: number; range: BatchRange; result: T }>>();

  for (;;) {
    while (running.size < options.parallelBatches && started < options.maxBatches) {
      if (planned.length === 0) {
        if (exhausted) break;
        const count = Math.min(options.parallelBatches, options.maxBatches - started);
        const plan = await options.plan(plannedUntil, count);
        exhausted = !plan.more;
        for (const untilId of plan.untilIds) {
          if (untilId <= plannedUntil) throw new Error(`batch plan went backwards: ${untilId} after ${plannedUntil}`);
          planned.push({ afterId: plannedUntil, untilId });
          plannedUntil = untilId;
        }
        if (planned.length === 0) break;
      }
      const range = planned.shift() as BatchRange;
      const key = started++;
      running.set(
        key,
        options.run(range).then((result) => ({ key, range, result })),
      );
    }
    if (running.size === 0) break;
    const done = await Promise.race(running.values());
    running.delete(done.key);
    options.finished(done.range, done.result);
  }
  // Planned but not started only when maxBatches cut the plan, which asks for no more than it.
  if (planned.length > 0) throw new Error('batch window ended with planned batches not started');
  return { afterId: plannedUntil, exhausted };
}
