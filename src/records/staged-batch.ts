import type { Db, PrismaClient } from '../db/prisma.ts';
import type { ColumnCipher } from '../crypto/column-cipher.ts';
import { shareSqlSealKeys } from '../crypto/sql-seal.ts';
import type { BatchPlan } from '../domain/batch-window.ts';
import {
  defaultRecordLimits,
  oldestPaidAtMs,
  referenceRetentionMs,
  type RecordLimits,
} from '../domain/record-limits.ts';

// One batch of the staging import: the SQL function record_staged_batch (its migrations say
// what it does, set-based: the recorded payments, their ledger postings and their outbox
// events), in ONE database transaction. Callable without Temporal (the import activity, the
// benchmark's baseline). PostgreSQL encrypts the records' customer references and metadata, and
// their copies in the events, itself (src/crypto/sql-seal.ts): the transaction is handed the keys first.

export interface StagedBatchInput {
  runId: string;
  /** Keyset: the batch takes unprocessed rows with a larger id… */
  afterId: bigint;
  /** …and, when set, not larger than this (a range planned by planStagedBatches). */
  untilId?: bigint | null | undefined;
  /** Only rows of this stripe (0-based) of `stripes` (src/domain/batch-stripes.ts); all when absent. */
  stripe?: number | undefined;
  stripes?: number | undefined;
  batchSize: number;
  limits?: RecordLimits | undefined;
  /** Only these merchants' staged rows (tests, a staged rollout); all when absent. */
  merchantIds?: string[] | undefined;
}

export interface StagedBatchResult {
  /** Null when there was nothing left to import. */
  batchStartId: bigint | null;
  batchEndId: bigint | null;
  rows: number;
  recorded: number;
  duplicates: number;
  invalid: number;
  /** The batch had been recorded before (a retry): nothing was written now. */
  replayed: boolean;
}

/** Long enough for a large batch on a busy machine; a stuck one is rolled back and retried. */
const batchTimeoutMs = 120_000;

interface BatchRow {
  batch_start_id: bigint | null;
  batch_end_id: bigint | null;
  row_count: number;
  recorded: number;
  duplicates: number;
  invalid: number;
  replayed: boolean;
}

/** The SQL functions' merchant filter: null (every merchant) when none is named. */
function merchantFilter(merchantIds: string[] | undefined): string[] | null {
  return merchantIds && merchantIds.length > 0 ? merchantIds : null;
}

export async function recordStagedBatch(
  db: PrismaClient,
  cipher: ColumnCipher,
  input: StagedBatchInput,
): Promise<StagedBatchResult> {
  const limits = input.limits ?? defaultRecordLimits;
  const oldest = new Date(oldestPaidAtMs(Date.now(), limits));
  const retention = `${referenceRetentionMs(limits)} milliseconds`;
  const merchantIds = merchantFilter(input.merchantIds);
  return db.$transaction(
    async (tx) => {
      await shareSqlSealKeys(tx, cipher.keyring);
      const rows = await tx.$queryRaw<BatchRow[]>`
        SELECT * FROM record_staged_batch(${input.runId}, ${input.afterId}::bigint, ${input.batchSize}::int,
          ${limits.maxAmountMinor}::bigint, ${oldest}::timestamptz, ${retention}::interval, ${merchantIds}::text[],
          ${input.untilId ?? null}::bigint, ${input.stripe ?? 0}::int, ${input.stripes ?? 1}::int)`;
      const row = rows[0];
      if (!row) throw new Error('record_staged_batch returned no row');
      return {
        batchStartId: row.batch_start_id,
        batchEndId: row.batch_end_id,
        rows: row.row_count,
        recorded: row.recorded,
        duplicates: row.duplicates,
        invalid: row.invalid,
        replayed: row.replayed,
      };
    },
    { isolationLevel: 'ReadCommitted', maxWait: 10_000, timeout: batchTimeoutMs },
  );
}

/**
 * The next `count` batches after `afterId`: the last id of each run of `batchSize` unprocessed
 * staged rows, read from the unprocessed rows' index (ids only, nothing locked).
 */
export async function planStagedBatches(
  db: Db,
  input: { afterId: bigint; batchSize: number; count: number; merchantIds?: string[] | undefined },
): Promise<BatchPlan> {
  const merchantIds = merchantFilter(input.merchantIds);
  const chunks = await db.$queryRaw<{ until_id: bigint; row_count: number }[]>`
    SELECT max(c.id) AS until_id, count(*)::int AS row_count
      FROM (SELECT s.id, (row_number() OVER (ORDER BY s.id) - 1) / ${input.batchSize}::int AS chunk
              FROM (SELECT ps.id FROM payment_staging ps
                     WHERE ps.id > ${input.afterId}::bigint AND ps.processed_at IS NULL
                       AND (${merchantIds}::text[] IS NULL OR ps.merchant_id = ANY (${merchantIds}::text[]))
                     ORDER BY ps.id LIMIT ${input.batchSize * input.count}::int) s) c
     GROUP BY c.chunk ORDER BY c.chunk`;
  const rows = chunks.reduce((sum, chunk) => sum + chunk.row_count, 0);
  return { untilIds: chunks.map((chunk) => chunk.until_id), more: rows === input.batchSize * input.count };
}

/** Whether any staged row waits to be imported (the unprocessed rows' index answers). */
export async function hasStagedBacklog(db: Db, input: { merchantIds?: string[] | undefined }): Promise<boolean> {
  const merchantIds = merchantFilter(input.merchantIds);
  const [row] = await db.$queryRaw<{ waiting: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM payment_staging ps
                    WHERE ps.processed_at IS NULL
                      AND (${merchantIds}::text[] IS NULL OR ps.merchant_id = ANY (${merchantIds}::text[]))) AS waiting`;
  return row?.waiting === true;
}
