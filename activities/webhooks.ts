import type { PrismaClient, Prisma } from '../src/db/prisma.ts';
import { newId } from '../src/ids.ts';
import type { ProviderName } from '../src/providers/provider.ts';
import { normalizeProviderEvent, type ProviderEvent } from '../src/webhooks/inbound-events.ts';

export type WebhookOutcome = 'pending' | 'delivered' | 'unmatched' | 'ignored';

export function createWebhookActivities(prisma: PrismaClient) {
  return {
    /** Records the provider event once (provider + event id unique) and returns it normalized. */
    async recordWebhookEvent(input: {
      provider: ProviderName;
      payload: unknown;
      receivedAt: string;
    }): Promise<ProviderEvent> {
      const event = normalizeProviderEvent(input.provider, input.payload);
      if (!event) throw new Error('webhook payload without an event id reached the workflow');
      await prisma.webhookEvent.createMany({
        data: [
          {
            id: newId('whev'),
            provider: input.provider,
            externalId: event.eventId,
            type: event.kind === 'ignored' ? event.type : event.kind,
            payload: input.payload as Prisma.InputJsonValue,
            chargeId: event.chargeId,
            receivedAt: new Date(input.receivedAt),
          },
        ],
        skipDuplicates: true,
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
