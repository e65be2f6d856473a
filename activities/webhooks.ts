import type { PrismaClient } from '../src/db/prisma.ts';
import type { ProviderName } from '../src/providers/provider.ts';
import { normalizeProviderEvent, type ProviderEvent } from '../src/webhooks/inbound-events.ts';

export type WebhookOutcome = 'pending' | 'delivered' | 'unmatched' | 'ignored';

export function createWebhookActivities(prisma: PrismaClient) {
  return {
    /** The inboxed provider event, normalized; its charge id is kept on the row for operators. */
    async recordWebhookEvent(input: { provider: ProviderName; eventId: string }): Promise<ProviderEvent> {
      const where = { provider_externalId: { provider: input.provider, externalId: input.eventId } };
      const row = await prisma.webhookEvent.findUniqueOrThrow({ where, select: { payload: true } });
      const event = normalizeProviderEvent(input.provider, row.payload);
      if (!event) throw new Error('webhook payload without an event id reached the workflow');
      await prisma.webhookEvent.update({
        where,
        data: { chargeId: event.chargeId, type: event.kind === 'ignored' ? event.type : event.kind },
      });
      return event;
    },

    /** The payment holding this provider charge, from the read model. */
    async findPaymentForCharge(input: { provider: ProviderName; chargeId: string }): Promise<string | null> {
      const payment = await prisma.payment.findUnique({
        where: { provider_providerChargeId: { provider: input.provider, providerChargeId: input.chargeId } },
        select: { id: true },
      });
      return payment?.id ?? null;
    },

    async markWebhookEvent(input: {
      provider: ProviderName;
      eventId: string;
      outcome: WebhookOutcome;
      paymentId: string | null;
    }): Promise<void> {
      await prisma.webhookEvent.update({
        where: { provider_externalId: { provider: input.provider, externalId: input.eventId } },
        data: { outcome: input.outcome, paymentId: input.paymentId, processedAt: new Date() },
      });
    },
  };
}
