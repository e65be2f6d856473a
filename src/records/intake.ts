import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { requireKeyring, type Config } from '../config.ts';
import { cipherFor } from '../crypto/column-cipher.ts';
import type { PrismaClient } from '../db/prisma.ts';
import { PaymentsError } from '../domain/errors.ts';
import { oldestPaidAtMs, paidAtSkewMs, referenceRetentionMs, type RecordLimits } from '../domain/record-limits.ts';
import { startPollLoop, stderrLogger, type PollLogger, type PollLoop } from '../events/poll-loop.ts';
import { newRecordId } from './record-ids.ts';
import type { RecordPayload } from './record-payload.ts';
import { sealRecordPayload } from './record-secrets.ts';
import type { recordPaymentWorkflow } from '../../workflows/record.ts';

// The recording webhook's intake, as the provider-webhook inbox: a record is acknowledged once
// its reference is claimed in payment_references (one INSERT … ON CONFLICT DO NOTHING, the same
// table the import deduplicates against), carrying the record (encrypted, src/records/record-secrets.ts). A second claim of the reference,
// by the webhook or the import, finds it taken: `duplicate`, naming the payment that holds it.
// The workflow `record:<merchant>:<reference>` writes the recorded payment and its ledger
// posting right after the answer; a sweeper starts whatever a crash left unrecorded.

export interface IncomingRecord {
  merchantId: string;
  referenceNumber: string;
  accountReference: string;
  customerReference?: string | undefined;
  amount: bigint;
  currency: string;
  paidAt: string;
  channel?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

export interface IntakeAnswer {
  status: 'created' | 'duplicate';
  id: string;
}

export function recordWorkflowId(merchantId: string, reference: string): string {
  return `record:${merchantId}:${reference}`;
}

/** Refuses what can never be recorded, with the 4xx that says why. */
async function validate(prisma: PrismaClient, record: IncomingRecord, limits: RecordLimits): Promise<RecordPayload> {
  if (record.amount > limits.maxAmountMinor) {
    throw new PaymentsError(
      'amount_too_large',
      `The amount is over the limit of ${limits.maxAmountMinor} minor units.`,
      'amount',
    );
  }
  const paidAtMs = Date.parse(record.paidAt);
  const nowMs = Date.now();
  if (!Number.isFinite(paidAtMs) || paidAtMs > nowMs + paidAtSkewMs || paidAtMs < oldestPaidAtMs(nowMs, limits)) {
    throw new PaymentsError(
      'parameter_invalid',
      `paid_at must be an instant in the last ${limits.maxAgeDays} days, not in the future.`,
      'paid_at',
    );
  }
  const account = await prisma.account.findFirst({
    where: { merchantId: record.merchantId, externalReference: record.accountReference },
    select: { id: true, currency: true },
  });
  if (!account) {
    throw new PaymentsError(
      'resource_missing',
      `No account with external reference '${record.accountReference}'.`,
      'account_reference',
    );
  }
  if (account.currency !== record.currency) {
    throw new PaymentsError('currency_mismatch', `The account's currency is ${account.currency}.`, 'currency');
  }
  return {
    accountId: account.id,
    accountReference: record.accountReference,
    customerReference: record.customerReference ?? null,
    amount: record.amount.toString(),
    currency: record.currency,
    paidAt: new Date(paidAtMs).toISOString(),
    channel: record.channel ?? null,
    metadata: record.metadata ?? null,
  };
}

async function startWorkflow(deps: IntakeDependencies, merchantId: string, reference: string): Promise<void> {
  try {
    await deps.temporal.workflow.start<typeof recordPaymentWorkflow>('recordPaymentWorkflow', {
      workflowId: recordWorkflowId(merchantId, reference),
      taskQueue: deps.config.taskQueue,
      args: [{ merchantId, reference }],
      // A rerun of a finished one records nothing twice; a reference reused after its retention needs a new run.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

export interface IntakeDependencies {
  prisma: PrismaClient;
  temporal: Client;
  config: Config;
}

export interface RecordIntake {
  receive(record: IncomingRecord, source: 'webhook'): Promise<IntakeAnswer>;
  close(): Promise<void>;
}

export function createRecordIntake(deps: IntakeDependencies & { log?: PollLogger }): RecordIntake {
  const log = deps.log ?? stderrLogger('record intake');
  const running = new Set<Promise<void>>();
  return {
    async receive(record, source) {
      const limits = deps.config.recordLimits;
      const payload = await validate(deps.prisma, record, limits);
      const id = newRecordId();
      const now = Date.now();
      const claimed = await deps.prisma.paymentReference.createMany({
        data: [
          {
            merchantId: record.merchantId,
            reference: record.referenceNumber,
            recordedPaymentId: id,
            source,
            payload: sealRecordPayload(cipherFor(requireKeyring(deps.config)), payload),
            createdAt: new Date(now),
            expiresAt: new Date(now + referenceRetentionMs(limits)),
          },
        ],
        skipDuplicates: true,
      });
      if (claimed.count === 0) {
        const holder = await deps.prisma.paymentReference.findUnique({
          where: { merchantId_reference: { merchantId: record.merchantId, reference: record.referenceNumber } },
          select: { recordedPaymentId: true },
        });
        // Claimed a moment ago and purged since: a programmer's race worth a loud 500, not a guess.
        if (!holder) throw new Error(`reference ${record.referenceNumber} neither claimed nor found`);
        return { status: 'duplicate', id: holder.recordedPaymentId };
      }
      const started = startWorkflow(deps, record.merchantId, record.referenceNumber)
        .catch((err: unknown) => log.error({ err, id }, 'could not start record workflow; the sweeper will'))
        .finally(() => running.delete(started));
      running.add(started);
      return { status: 'created', id };
    },
    async close() {
      await Promise.all(running);
    },
  };
}

/** Starts the workflows of webhook records that have waited longer than webhookSweepAfterMs. */
export async function sweepRecordIntakeOnce(deps: IntakeDependencies): Promise<number> {
  const stale = await deps.prisma.paymentReference.findMany({
    where: {
      source: 'webhook',
      recordedAt: null,
      createdAt: { lt: new Date(Date.now() - deps.config.webhookSweepAfterMs) },
    },
    orderBy: { createdAt: 'asc' },
    take: deps.config.relayBatchSize,
    select: { merchantId: true, reference: true },
  });
  for (const row of stale) await startWorkflow(deps, row.merchantId, row.reference);
  return stale.length;
}

export function startRecordIntakeSweeper(deps: IntakeDependencies): PollLoop {
  return startPollLoop({
    intervalMs: deps.config.webhookSweepIntervalMs,
    log: stderrLogger('record sweeper'),
    pass: async () => (await sweepRecordIntakeOnce(deps)) >= deps.config.relayBatchSize,
  });
}
