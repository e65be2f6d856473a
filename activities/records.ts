import { Context } from '@temporalio/activity';
import type { PrismaClient } from '../src/db/prisma.ts';
import type { ColumnCipher } from '../src/crypto/column-cipher.ts';
import type { RecordLimits } from '../src/domain/record-limits.ts';
import { closeImportRun, openImportRun } from '../src/records/import-runs.ts';
import { recordClaimedReference } from '../src/records/record-payment.ts';
import type { BatchPlan } from '../src/domain/batch-window.ts';
import {
  hasStagedBacklog,
  planStagedBatches,
  recordStagedBatch,
  type StagedBatchResult,
} from '../src/records/staged-batch.ts';

// Activities of the import and recording workflows. Each write is keyed: a batch by run and
// the id it starts after, a webhook record by its claimed reference, the run by its id.

export interface ImportBatchInput {
  runId: string;
  afterId: bigint;
  untilId?: bigint | null | undefined;
  stripe?: number | undefined;
  stripes?: number | undefined;
  batchSize: number;
  limits: RecordLimits;
  merchantIds?: string[] | undefined;
}

const heartbeatEveryMs = 1_000;

export function createRecordActivities(prisma: PrismaClient, cipher: ColumnCipher) {
  return {
    async openImportRun(input: { runId: string }): Promise<void> {
      await openImportRun(prisma, input.runId);
    },

    /** Whether any staged row (of these merchants, or any) waits to be imported. */
    async hasStagedBacklog(input: { merchantIds?: string[] | undefined }): Promise<boolean> {
      return hasStagedBacklog(prisma, input);
    },

    /** The next batches' ranges (reads ids only: a retry may plan anew, nothing was written). */
    async planImportBatches(input: {
      afterId: bigint;
      batchSize: number;
      count: number;
      merchantIds?: string[] | undefined;
    }): Promise<BatchPlan> {
      return planStagedBatches(prisma, input);
    },

    /** One batch in one database transaction; a retry answers the stored result. */
    async recordImportBatch(input: ImportBatchInput): Promise<StagedBatchResult> {
      // Heartbeats while the transaction runs: a worker that dies mid-batch is noticed within
      // the heartbeat timeout, and the batch is retried elsewhere (it committed whole or not at all).
      const beat = setInterval(() => Context.current().heartbeat(), heartbeatEveryMs);
      try {
        return await recordStagedBatch(prisma, cipher, input);
      } catch (error) {
        // The run shows the last failure while the batch is retried.
        await prisma.importRun
          .updateMany({ where: { id: input.runId }, data: { error: String(error).slice(0, 1_000) } })
          .catch(() => undefined);
        throw error;
      } finally {
        clearInterval(beat);
      }
    },

    async closeImportRun(input: { runId: string; error?: string | undefined }): Promise<void> {
      await closeImportRun(
        prisma,
        input.runId,
        input.error === undefined ? { status: 'succeeded' } : { status: 'failed', error: input.error },
      );
    },

    async recordClaimedReference(input: { merchantId: string; reference: string }) {
      return recordClaimedReference(prisma, cipher, input);
    },

    /** Creates recorded_payments partitions for this month through `monthsAhead` months ahead. */
    async ensureRecordPartitions(input: { monthsAhead: number }): Promise<number> {
      const rows = await prisma.$queryRaw<{ created: number }[]>`
        SELECT recorded_payments_ensure_partitions(now(), now() + make_interval(months => ${input.monthsAhead}::int)) AS created`;
      return rows[0]?.created ?? 0;
    },

    /** Forgets references past their retention; recorded payments and ledger entries stay. */
    async purgeExpiredReferences(): Promise<number> {
      const { count } = await prisma.paymentReference.deleteMany({
        where: { expiresAt: { lt: new Date() }, recordedAt: { not: null } },
      });
      return count;
    },
  };
}
