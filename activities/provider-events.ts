import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { PrismaClient } from '../src/db/prisma.ts';
import type { ProviderName } from '../src/providers/provider.ts';
import { isPayoutEvent, type PayoutEvent, type ProviderEvent } from '../src/webhooks/inbound-events.ts';
import {
  deliverToPayment,
  deliverToPayout,
  inboxEvent,
  markInboxEvent,
  type WebhookOutcome,
} from '../src/webhooks/inbox-events.ts';
import { providerEventSignal } from '../workflows/messages.ts';
import { payoutOutcomeSignal } from '../workflows/payout-messages.ts';

// Routing one inboxed provider event to its payment, in one local activity and two statements:
// read it; find the payment by the provider's charge id and settle the inbox row as delivered;
// then signal the payment workflow when the event moves money. A crash before the signal
// retries the activity, which signals then; the payment applies each event id once.
// A payout.* event goes the same way to its payout's workflow (workflow id = payout id), which
// takes the first answer for its provider payout.

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

  const routePayoutEvent = async (provider: ProviderName, event: PayoutEvent): Promise<RoutedEvent> => {
    const payoutId = await deliverToPayout(prisma, provider, event);
    // Not ours, or not recorded yet: parked and looked up again, as an unknown charge is.
    if (payoutId === null) return { outcome: 'pending', paymentId: null };
    try {
      await temporal.workflow.getHandle(payoutId).signal(payoutOutcomeSignal, {
        status: event.kind === 'payout_paid' ? 'paid' : 'failed',
        providerPayoutId: event.providerPayoutId,
      });
      return { outcome: 'delivered', paymentId: null };
    } catch (error) {
      // The payout's workflow has ended (a status check learned the answer first).
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      await markInboxEvent(prisma, { provider, eventId: event.eventId, outcome: 'ignored', paymentId: null });
      return { outcome: 'ignored', paymentId: null };
    }
  };

  return {
    async routeProviderEvent(input: { provider: ProviderName; eventId: string }): Promise<RoutedEvent> {
      const event = await inboxEvent(prisma, input.provider, input.eventId);
      if (isPayoutEvent(event)) return routePayoutEvent(input.provider, event);
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
