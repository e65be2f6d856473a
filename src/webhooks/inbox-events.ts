import type { PrismaClient } from '../db/prisma.ts';
import type { ProviderName } from '../providers/provider.ts';
import { normalizeProviderEvent, type ProviderEvent } from './inbound-events.ts';

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
