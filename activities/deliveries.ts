import type { PrismaClient } from '../src/db/prisma.ts';
import { PaymentsError } from '../src/domain/errors.ts';
import { appendEvent } from '../src/events/outbox.ts';
import { presentEvent } from '../src/events/present.ts';
import { openEvent } from '../src/events/event-secrets.ts';
import { newId } from '../src/ids.ts';
import {
  failingDisabledReason,
  goneDisabledReason,
  presentEndpoint,
  signingSecrets,
} from '../src/webhooks/endpoints.ts';
import { sendWebhook } from '../src/webhooks/sender.ts';
import { webhookDeadLetters, webhookDeliveryAttempts } from '../src/observability/metrics.ts';
import type { ColumnCipher } from '../src/crypto/column-cipher.ts';
import type { DestinationPolicy } from '../src/webhooks/destinations.ts';

// Activities of the outbound delivery workflow. One attempt = at most one HTTP POST, recorded as
// the row (delivery_id, attempt): a retried activity finds the row and returns what it says
// instead of posting again. The only window for a second POST is a crash between the answer
// and the write; webhooks are at-least-once, and receivers dedupe by event id.
// A POST to a destination the policy refuses is not sent: the attempt is recorded as failed
// with error 'destination_not_allowed' and retried like any other failure, since a name may
// resolve to a public address later; until then the endpoint's failure streak grows, and it
// is disabled after WEBHOOK_ENDPOINT_DISABLE_AFTER_MS like any endpoint that keeps failing.

export interface AttemptDeliveryInput {
  deliveryId: string;
  /** 1-based; the workflow numbers attempts. */
  attempt: number;
  timeoutMs: number;
}

export interface AttemptDeliveryResult {
  /** The endpoint answered 2xx: the delivery is succeeded. */
  ok: boolean;
  /** Do not retry: the endpoint is disabled or deleted (error 'endpoint_disabled'), or answered 410 Gone. */
  stop: boolean;
  /** The receiver asked to wait this long before the next attempt (Retry-After on 429 or 503). */
  retryAfterMs: number | null;
  statusCode: number | null;
  error: string | null;
  /** When the attempt started and how long it took: the workflow's clock for the max age. */
  attemptedAtMs: number;
  durationMs: number;
}

export type DeliveryFailureReason = 'max_age_exceeded' | 'endpoint_disabled';

export interface FailDeliveryInput {
  deliveryId: string;
  reason: DeliveryFailureReason;
  /** The endpoint is disabled when it has had no success for this long. */
  endpointDisableAfterMs: number;
}

const transactionOptions = { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 } as const;
export const endpointDisabledError = 'endpoint_disabled';

/** 410 Gone: the receiver says the endpoint is no more; it is disabled and never retried. */
const goneStatus = 410;

function resultOf(row: {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  retryAfterMs: number | null;
  createdAt: Date;
}): AttemptDeliveryResult {
  const ok = row.statusCode !== null && row.statusCode >= 200 && row.statusCode < 300;
  return {
    ok,
    stop: row.error === endpointDisabledError || row.statusCode === goneStatus,
    retryAfterMs: row.retryAfterMs,
    statusCode: row.statusCode,
    error: row.error,
    attemptedAtMs: row.createdAt.getTime(),
    durationMs: row.durationMs,
  };
}

export function createDeliveryActivities(prisma: PrismaClient, policy: DestinationPolicy, cipher: ColumnCipher) {
  const findAttempt = (deliveryId: string, attempt: number) =>
    prisma.webhookDeliveryAttempt.findUnique({ where: { deliveryId_attempt: { deliveryId, attempt } } });

  return {
    /** One POST of the event to the endpoint, recorded with its effect on the delivery and the endpoint. */
    async attemptDelivery(input: AttemptDeliveryInput): Promise<AttemptDeliveryResult> {
      const { deliveryId, attempt } = input;
      const recorded = await findAttempt(deliveryId, attempt);
      if (recorded) return resultOf(recorded);

      const delivery = await prisma.webhookDelivery.findUnique({
        where: { id: deliveryId },
        include: { event: true, endpoint: true },
      });
      if (!delivery) throw new PaymentsError('resource_missing', `No such delivery: '${deliveryId}'.`);
      const { endpoint, event } = delivery;
      const startedAt = new Date();
      const outcome =
        endpoint.status === 'enabled'
          ? await sendWebhook({
              url: endpoint.url,
              body: JSON.stringify(presentEvent(openEvent(cipher, event))),
              secrets: signingSecrets(endpoint, startedAt.getTime(), (column, sealed) => cipher.open(column, sealed)),
              messageId: event.id,
              timeoutMs: input.timeoutMs,
              timestampSeconds: Math.floor(startedAt.getTime() / 1000),
              policy,
            })
          : { ok: false, statusCode: null, error: endpointDisabledError, durationMs: 0, retryAfterMs: null };
      // Counted when a POST was made (a disabled endpoint gets none), even if another execution records first.
      if (endpoint.status === 'enabled') webhookDeliveryAttempts.inc({ outcome: outcome.ok ? 'success' : 'failure' });

      await prisma.$transaction(async (tx) => {
        const inserted = await tx.webhookDeliveryAttempt.createMany({
          data: [
            {
              id: newId('wda'),
              deliveryId,
              attempt,
              statusCode: outcome.statusCode,
              error: outcome.error,
              durationMs: outcome.durationMs,
              retryAfterMs: outcome.retryAfterMs,
              createdAt: startedAt,
            },
          ],
          skipDuplicates: true,
        });
        // Another execution of this attempt recorded it first: its row, and its effects, win.
        if (inserted.count === 0) return;
        await tx.webhookDelivery.updateMany({
          where: { id: deliveryId, attemptCount: { lt: attempt } },
          data: { attemptCount: attempt, updatedAt: new Date() },
        });
        if (outcome.ok) {
          await tx.webhookDelivery.updateMany({
            where: { id: deliveryId, status: 'pending' },
            data: { status: 'succeeded', updatedAt: new Date() },
          });
          await tx.webhookEndpoint.update({
            where: { id: endpoint.id },
            data: { consecutiveFailures: 0, failingSince: null, updatedAt: new Date() },
          });
        } else if (outcome.statusCode === goneStatus) {
          // Guarded by status: a second delivery answered 410 at once disables (and announces) once.
          const disabled = await tx.webhookEndpoint.updateMany({
            where: { id: endpoint.id, status: 'enabled' },
            data: { status: 'disabled', disabledReason: goneDisabledReason, updatedAt: new Date() },
          });
          if (disabled.count > 0) {
            await appendEvent(tx, cipher, {
              merchantId: endpoint.merchantId,
              type: 'webhook_endpoint.disabled',
              resourceId: endpoint.id,
              data: presentEndpoint({ ...endpoint, status: 'disabled', disabledReason: goneDisabledReason }),
              sourceKey: `webhook_endpoint:${endpoint.id}:disabled:${deliveryId}:${attempt}`,
            });
          }
        } else if (outcome.error !== endpointDisabledError) {
          // The failure streak: how many in a row, and since when there has been no success.
          await tx.$executeRaw`
            UPDATE webhook_endpoints
               SET consecutive_failures = consecutive_failures + 1,
                   failing_since = COALESCE(failing_since, ${startedAt}),
                   updated_at = now()
             WHERE id = ${endpoint.id}`;
        }
      }, transactionOptions);

      const row = await findAttempt(deliveryId, attempt);
      if (!row) throw new Error(`attempt ${attempt} of ${deliveryId} was not recorded`);
      return resultOf(row);
    },

    /**
     * The dead letter: marks the delivery failed (replayable with POST /v1/events/:id/redeliver)
     * and, when the endpoint has had no success for endpointDisableAfterMs, disables it and
     * announces webhook_endpoint.disabled, in the same transaction.
     */
    async failDelivery(input: FailDeliveryInput): Promise<{ endpointDisabled: boolean }> {
      return prisma.$transaction(async (tx) => {
        const delivery = await tx.webhookDelivery.findUnique({
          where: { id: input.deliveryId },
          include: { endpoint: true },
        });
        if (!delivery) throw new PaymentsError('resource_missing', `No such delivery: '${input.deliveryId}'.`);
        const failed = await tx.webhookDelivery.updateMany({
          where: { id: delivery.id, status: 'pending' },
          data: { status: 'failed', updatedAt: new Date() },
        });
        // Counted once: a retried activity finds the delivery failed already. (Counted before the
        // commit; a transaction that then fails is retried and finds it still pending: rare, and
        // an overcount of a dead letter is the safe side for an alert.)
        if (failed.count > 0) webhookDeadLetters.inc({ reason: input.reason });
        const { endpoint } = delivery;
        if (input.reason !== 'max_age_exceeded' || endpoint.status !== 'enabled' || !endpoint.failingSince) {
          return { endpointDisabled: endpoint.status === 'disabled' };
        }
        const now = new Date();
        if (now.getTime() - endpoint.failingSince.getTime() < input.endpointDisableAfterMs) {
          return { endpointDisabled: false };
        }
        // Guarded by the streak it saw: a success in between (failing_since reset) keeps it enabled.
        const disabled = await tx.webhookEndpoint.updateMany({
          where: { id: endpoint.id, status: 'enabled', failingSince: endpoint.failingSince },
          data: { status: 'disabled', disabledReason: failingDisabledReason, updatedAt: now },
        });
        if (disabled.count === 0) return { endpointDisabled: false };
        await appendEvent(tx, cipher, {
          merchantId: endpoint.merchantId,
          type: 'webhook_endpoint.disabled',
          resourceId: endpoint.id,
          // The endpoint as GET shows it; its failed deliveries are listed at …/deliveries.
          data: presentEndpoint({ ...endpoint, status: 'disabled', disabledReason: failingDisabledReason }),
          sourceKey: `webhook_endpoint:${endpoint.id}:disabled:${delivery.id}`,
        });
        return { endpointDisabled: true };
      }, transactionOptions);
    },
  };
}
