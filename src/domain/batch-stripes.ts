// Runs an import's batches stripe by stripe: the staged rows fall into `stripes` stripes by a
// hash of (merchant, reference) (SQL: staging_stripe), each stripe is read in id order from its
// own cursor, one batch at a time, and the stripes run side by side. Pure (promises only): the
// import workflow and the benchmark's direct path share it.
//
// Why stripes and not neighbouring id ranges: a reference is claimed by inserting it (INSERT …
// ON CONFLICT DO NOTHING), which waits when another open transaction inserted the same one.
// Neighbouring ranges nearly always share a reference (a repeat within the last few thousand
// rows), so the second batch waited for the first's commit and two ran one after the other.
// Stripes share none, and overlap everywhere but the ledger posting (migration 20261207100000).

export interface StripeBatch {
  /** 0-based, below `stripes`. */
  stripe: number;
  stripes: number;
  /** The batch takes the stripe's next unprocessed staged rows with a larger id. */
  afterId: bigint;
}

export interface StripeBatchResult {
  rows: number;
  /** The last staged id the batch took; null when it took none. */
  batchEndId: bigint | null;
}

/** Where one stripe stands. */
export interface StripeCursor {
  /** Its next batch starts after this id. */
  afterId: bigint;
  /** It ran out of staged rows (a batch took fewer than batchSize): it takes no more batches. */
  exhausted: boolean;
}

/** A run's starting cursors, one per stripe, all after `afterId`. */
export function startingStripes(stripes: number, afterId: bigint): StripeCursor[] {
  if (!Number.isInteger(stripes) || stripes < 1) throw new Error(`stripes must be a positive integer, got ${stripes}`);
  return Array.from({ length: stripes }, () => ({ afterId, exhausted: false }));
}

export interface StripeRunOptions<T extends StripeBatchResult> {
  /** One cursor per stripe: its length is the number of stripes, at least 1. */
  stripes: readonly StripeCursor[];
  batchSize: number;
  /** Batches to start at most, all stripes together (a run continues as new after them). */
  maxBatches: number;
  run: (batch: StripeBatch) => Promise<T>;
  /** Called once per finished batch, in the order they finish, with every stripe's cursor after it. */
  finished: (batch: StripeBatch, result: T, stripes: StripeCursor[]) => void;
}

export interface StripeRunEnd {
  stripes: StripeCursor[];
  /** Every stripe ran out of staged rows. */
  exhausted: boolean;
}

/** Runs every stripe's batches one after another, the stripes at once; waits for all. */
export async function runStripes<T extends StripeBatchResult>(options: StripeRunOptions<T>): Promise<StripeRunEnd> {
  const stripes = options.stripes.length;
  if (stripes < 1) throw new Error('runStripes needs at least one stripe');
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${options.batchSize}`);
  }
  const cursors = options.stripes.map((cursor) => ({ ...cursor }));
  let started = 0;

  const runStripe = async (stripe: number): Promise<void> => {
    const cursor = cursors[stripe] as StripeCursor;
    while (!cursor.exhausted && started < options.maxBatches) {
      started += 1;
      const batch: StripeBatch = { stripe, stripes, afterId: cursor.afterId };
      const result = await options.run(batch);
      if (result.rows > 0) {
        if (result.batchEndId === null || result.batchEndId <= batch.afterId) {
          throw new Error(
            `stripe ${stripe} went backwards: batch after ${batch.afterId} ended at ${result.batchEndId}`,
          );
        }
        cursor.afterId = result.batchEndId;
      }
      if (result.rows < options.batchSize) cursor.exhausted = true;
      options.finished(
        batch,
        result,
        cursors.map((each) => ({ ...each })),
      );
    }
  };
  await Promise.all(cursors.map((_cursor, stripe) => runStripe(stripe)));
  return { stripes: cursors, exhausted: cursors.every((cursor) => cursor.exhausted) };
}

/**
 * The staged id through which the run has gone: no row it could still take lies at or below
 * it. The lowest cursor of the stripes not exhausted; the highest once all are.
 */
export function stripesDoneThrough(stripes: readonly StripeCursor[]): bigint {
  if (stripes.length === 0) throw new Error('stripesDoneThrough needs at least one stripe');
  const open = stripes.filter((cursor) => !cursor.exhausted).map((cursor) => cursor.afterId);
  const ids = open.length > 0 ? open : stripes.map((cursor) => cursor.afterId);
  return ids.reduce((pick, id) => ((open.length > 0 ? id < pick : id > pick) ? id : pick));
}
