import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { PrismaClient } from '../src/db/prisma.ts';
import type { ProviderName } from '../src/providers/provider.ts';
import type { ProviderEvent } from '../src/webhooks/inbound-events.ts';
import { deliverToPayment, inboxEvent, markInboxEvent, type WebhookOutcome } from '../src/webhooks/inbox-events.ts';
import { providerEventSignal } from '../workflows/messages.ts';

// Routing one inboxed provider event to its payment, in one local activity and two statements:
// read it; find the payment by the provider's charge id and settle the inbox row as delivered;
// then signal the payment workflow when the event moves money. A crash before the signal
// retries the activity, which signals then; the payment applies each event id once.

/** Events the payment workflow acts on; the echo of our own charge changes nothing there. */
function movesMoney(event: ProviderEvent): boolean {
  return event.kind === 'refund_total' || event.kind === 'refund' || event.kind === 'dispute_created';
}

export interface RoutedEvent {
  /** `pending`: no payment holds the charge yet; the workflow looks again later. */
  outcome: Exclude<WebhookOutcome, 'unmatched'>;
  paymentId: string | null;
}

export function createProviderEventActivities(prisma: PrismaClient, temporal: Client) {
  const signal = async (paymentId: string, event: ProviderEvent): Promise<'delivered' | 'ignored'> => {
    if (!movesMoney(event)) return 'delivered';
    try {
      await temporal.workflow.getHandle(paymentId).signal(providerEventSignal, event);
      return 'delivered';
    } catch (error) {
      // The payment's workflow has ended (its refund window closed): nothing left to update.
      if (error instanceof WorkflowNotFoundError) return 'ignored';
      throw error;
    }
  };

  return {
    async routeProviderEvent(input: { provider: ProviderName; eventId: string }): Promise<RoutedEvent> {
      const event = await inboxEvent(prisma, input.provider, input.eventId);
      if (event.chargeId === null) {
        await markInboxEvent(prisma, { ...input, outcome: 'ignored', paymentId: null });
        return { outcome: 'ignored', paymentId: null };
      }
      const paymentId = await deliverToPayment(prisma, input.provider, { ...event, chargeId: event.chargeId });
      if (paymentId === null) {
        // A declined charge holds no money and our failed payment keeps no charge id: nothing
        // to wait for (parking it would wake the workflow for an hour for nothing).
        if (event.kind !== 'charge_failed') return { outcome: 'pending', paymentId: null };
        await markInboxEvent(prisma, { ...input, outcome: 'ignored', paymentId: null });
        return { outcome: 'ignored', paymentId: null };
      }
      const outcome = await signal(paymentId, event);
      if (outcome === 'ignored') await markInboxEvent(prisma, { ...input, outcome, paymentId });
      return { outcome, paymentId };
    },

    async markWebhookEvent(input: {
      provider: ProviderName;
      eventId: string;
      outcome: WebhookOutcome;
      paymentId: string | null;
    }): Promise<void> {
      await markInboxEvent(prisma, input);
    },
  };
}
