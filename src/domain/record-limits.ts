// Limits of recorded payments (staged rows and the recording webhook). Pure: the import
// workflow carries them in its input, the API and the batch read the same defaults.

const dayMs = 24 * 60 * 60 * 1000;

export interface RecordLimits {
  /** Amounts above this (minor units) are refused: `invalid: amount_over_limit`, 400 on the webhook. */
  maxAmountMinor: bigint;
  /** A paid_at older than this is refused (`invalid: bad_paid_at`). */
  maxAgeDays: number;
  /** A reference is remembered (deduplicated) this long after it was recorded. */
  referenceRetentionDays: number;
}

export const defaultRecordLimits: RecordLimits = {
  maxAmountMinor: 1_000_000_000n,
  maxAgeDays: 365,
  referenceRetentionDays: 90,
};

/** Five minutes of clock skew between a sender's clock and ours are tolerated. */
export const paidAtSkewMs = 5 * 60 * 1000;

export const defaultImportBatchSize = 1_000;
/** An import run continues as new after this many batches, so its history stays small. */
export const defaultImportBatchesPerRun = 20;
/**
 * Batches an import runs at once, one per stripe of the staged rows (src/domain/batch-stripes.ts).
 * Two: stripes never claim the same reference, so two batches overlap everywhere but their
 * ledger posting and use both cores of the 2-core machine the benchmark runs on (docs/benchmarks.md).
 */
export const defaultImportParallelBatches = 2;
/** More would only queue on the account locks and the database's cores. */
export const maxImportParallelBatches = 8;

/** The oldest paid_at accepted at `nowMs`. */
export function oldestPaidAtMs(nowMs: number, limits: Pick<RecordLimits, 'maxAgeDays'>): number {
  return nowMs - limits.maxAgeDays * dayMs;
}

export function referenceRetentionMs(limits: Pick<RecordLimits, 'referenceRetentionDays'>): number {
  return limits.referenceRetentionDays * dayMs;
}
