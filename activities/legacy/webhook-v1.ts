import type { PrismaClient } from '../../src/db/prisma.ts';
import type { ProviderName } from '../../src/providers/provider.ts';
import type { ProviderEvent } from '../../src/webhooks/inbound-events.ts';
import { paymentForCharge, readInboxEvent } from '../../src/webhooks/inbox-events.ts';

// Activities only the first webhook workflow version (workflows/legacy/webhook-v1.ts) calls;
// kept until its last run has closed (at most WEBHOOK_UNMATCHED_GIVE_UP_MS after the upgrade).

export function createWebhookV1Activities(prisma: PrismaClient) {
  return {
    async recordWebhookEvent(input: { provider: ProviderName; eventId: string }): Promise<ProviderEvent> {
      return readInboxEvent(prisma, input.provider, input.eventId);
    },

    async findPaymentForCharge(input: { provider: ProviderName; chargeId: string }): Promise<string | null> {
      return paymentForCharge(prisma, input.provider, input.chargeId);
    },
  };
}
