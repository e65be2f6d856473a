import type { Db, PrismaClient } from '../db/prisma.ts';
import { appendEvents } from '../events/outbox.ts';
import {
  defaultRecordLimits,
  oldestPaidAtMs,
  referenceRetentionMs,
  type RecordLimits,
} from '../domain/record-limits.ts';
import { recordCreatedEvent } from './public-record.ts';

// One batch of the staging import: the SQL function record_staged_batch (its migration says
// what it does, set-based) and the outbox events of what it recorded, in ONE database
// transaction. Callable without Temporal (the import activity, the benchmark's baseline).

export interface StagedBatchInput {
  runId: string;
  /** Keyset: the batch takes unprocessed rows with a larger id. */
  afterId: bigint;
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

interface RecordedRow {
  id: string;
  merchant_id: string;
  account_id: string;
  reference_number: string;
  account_reference: string;
  customer_reference: string | null;
  amount: bigint;
  currency: string;
  paid_at: Date;
  channel: string | null;
  metadata: unknown;
  transaction_id: string;
  created_at: Date;
}

async function writeEvents(tx: Db): Promise<void> {
  const recorded = await tx.$queryRaw<RecordedRow[]>`
    SELECT record_id AS id, merchant_id, account_id, reference_number, account_reference, customer_reference,
           amount, currency, paid_at, channel, metadata, transaction_id, now() AS created_at
      FROM staged_batch WHERE outcome = 'recorded' ORDER BY id`;
  if (recorded.length === 0) return;
  await appendEvents(
    tx,
    recorded.map((row) =>
      recordCreatedEvent(row.merchant_id, {
        id: row.id,
        referenceNumber: row.reference_number,
        accountId: row.account_id,
        accountReference: row.account_reference,
        customerReference: row.customer_reference,
        amount: row.amount,
        currency: row.currency,
        paidAt: row.paid_at,
        channel: row.channel,
        metadata: row.metadata,
        source: 'staging',
        transactionId: row.transaction_id,
        createdAt: row.created_at,
      }),
    ),
  );
}

export async function recordStagedBatch(db: PrismaClient, input: StagedBatchInput): Promise<StagedBatchResult> {
  const limits = input.limits ?? defaultRecordLimits;
  const oldest = new Date(oldestPaidAtMs(Date.now(), limits));
  const retention = `${referenceRetentionMs(limits)} milliseconds`;
  const merchantIds = input.merchantIds && input.merchantIds.length > 0 ? input.merchantIds : null;
  return db.$transaction(
    async (tx) => {
      const rows = await tx.$queryRaw<BatchRow[]>`
        SELECT * FROM record_staged_batch(${input.runId}, ${input.afterId}::bigint, ${input.batchSize}::int,
          ${limits.maxAmountMinor}::bigint, ${oldest}::timestamptz, ${retention}::interval, ${merchantIds}::text[])`;
      const row = rows[0];
      if (!row) throw new Error('record_staged_batch returned no row');
      if (!row.replayed && row.row_count > 0) await writeEvents(tx);
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
