import type { PrismaClient } from '../db/prisma.ts';
import type { ProviderName } from '../providers/provider.ts';
import { normalizeProviderEvent, type PayoutEvent, type ProviderEvent } from './inbound-events.ts';

// Reading and settling one inboxed provider event (webhook_events), for the webhook workflows.

export type WebhookOutcome = 'pending' | 'delivered' | 'unmatched' | 'ignored';

const whereEvent = (provider: ProviderName, eventId: string) => ({
  provider_externalId: { provider, externalId: eventId },
});

/** The inboxed provider event, normalized; its charge id is kept on the row for operators. */
export async function readInboxEvent(
  prisma: PrismaClient,
  provider: ProviderName,
  eventId: string,
): Promise<ProviderEvent> {
  const where = whereEvent(provider, eventId);
  const row = await prisma.webhookEvent.findUniqueOrThrow({ where, select: { payload: true, chargeId: true } });
  const event = normalizeProviderEvent(provider, row.payload);
  if (!event) throw new Error('webhook payload without an event id reached the workflow');
  if (row.chargeId === null && event.chargeId !== null) {
    await prisma.webhookEvent.update({
      where,
      data: { chargeId: event.chargeId, type: event.kind },
    });
  }
  return event;
}

/** The payment holding this provider charge, from the read model. */
export async function paymentForCharge(
  prisma: PrismaClient,
  provider: ProviderName,
  chargeId: string,
): Promise<string | null> {
  const payment = await prisma.payment.findUnique({
    where: { provider_providerChargeId: { provider, providerChargeId: chargeId } },
    select: { id: true },
  });
  return payment?.id ?? null;
}

export async function markInboxEvent(
  prisma: PrismaClient,
  input: { provider: ProviderName; eventId: string; outcome: WebhookOutcome; paymentId: string | null },
): Promise<void> {
  await prisma.webhookEvent.update({
    where: whereEvent(input.provider, input.eventId),
    data: { outcome: input.outcome, paymentId: input.paymentId, processedAt: new Date() },
  });
}

/** The inboxed provider event, normalized, read in one statement (nothing written). */
export async function inboxEvent(
  prisma: PrismaClient,
  provider: ProviderName,
  eventId: string,
): Promise<ProviderEvent> {
  const rows = await prisma.$queryRaw<{ payload: unknown }[]>`
    SELECT payload FROM webhook_events WHERE provider = ${provider} AND external_id = ${eventId}`;
  const row = rows[0];
  if (!row) throw new Error(`webhook event ${provider}/${eventId} is not in the inbox`);
  const event = normalizeProviderEvent(provider, row.payload);
  if (!event) throw new Error('webhook payload without an event id reached the workflow');
  return event;
}

/**
 * In one statement: finds the payment holding the event's charge and, when there is one,
 * settles the inbox row as delivered to it; the charge id and kind are kept either way for
 * operators. Null when no payment holds the charge yet (the row stays pending).
 */
export async function deliverToPayment(
  prisma: PrismaClient,
  provider: ProviderName,
  event: ProviderEvent & { chargeId: string },
): Promise<string | null> {
  const rows = await prisma.$queryRaw<{ payment_id: string | null }[]>`
    WITH payment AS (SELECT id FROM payments WHERE provider = ${provider} AND provider_charge_id = ${event.chargeId})
    UPDATE webhook_events SET charge_id = ${event.chargeId}, type = ${event.kind},
      payment_id = (SELECT id FROM payment),
      outcome = CASE WHEN EXISTS (SELECT 1 FROM payment) THEN 'delivered' ELSE outcome END,
      processed_at = CASE WHEN EXISTS (SELECT 1 FROM payment) THEN now() ELSE processed_at END
    WHERE provider = ${provider} AND external_id = ${event.eventId}
    RETURNING payment_id`;
  if (rows.length !== 1) throw new Error(`webhook event ${provider}/${event.eventId} is not in the inbox`);
  return rows[0]?.payment_id ?? null;
}

/**
 * In one statement: finds the payout a payout.* event is about (by the provider's payout id,
 * or by our id echoed in its metadata while we have not recorded the provider's yet) and, when
 * there is one, settles the inbox row as delivered to it. Null when no payout of ours matches
 * yet (the row stays pending).
 */
export async function deliverToPayout(
  prisma: PrismaClient,
  provider: ProviderName,
  event: PayoutEvent,
): Promise<string | null> {
  const rows = await prisma.$queryRaw<{ payout_id: string | null }[]>`
    WITH payout AS (
      SELECT id FROM payouts
       WHERE provider = ${provider}
         AND (provider_payout_id = ${event.providerPayoutId}
              OR (provider_payout_id IS NULL AND id = ${event.payoutId ?? ''}))
       LIMIT 1)
    UPDATE webhook_events SET type = ${event.kind},
      payout_id = (SELECT id FROM payout),
      outcome = CASE WHEN EXISTS (SELECT 1 FROM payout) THEN 'delivered' ELSE outcome END,
      processed_at = CASE WHEN EXISTS (SELECT 1 FROM payout) THEN now() ELSE processed_at END
    WHERE provider = ${provider} AND external_id = ${event.eventId}
    RETURNING payout_id`;
  if (rows.length !== 1) throw new Error(`webhook event ${provider}/${event.eventId} is not in the inbox`);
  return rows[0]?.payout_id ?? null;
}
