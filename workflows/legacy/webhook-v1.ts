import { getExternalWorkflowHandle, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activity-types.ts';
import type { ProviderName } from '../../src/providers/provider.ts';
import { ledgerActivity } from '../activity-options.ts';
import { providerEventSignal } from '../messages.ts';

const { recordWebhookEvent, findPaymentForCharge, markWebhookEvent } =
  proxyActivities<Pick<Activities, 'recordWebhookEvent' | 'findPaymentForCharge' | 'markWebhookEvent'>>(ledgerActivity);

export interface WebhookInput {
  provider: ProviderName;
  /** The provider's event id; the event itself waits in the inbox (webhook_events). */
  eventId: string;
  /** While the charge is unknown, look again this often… */
  retryMs: number;
  /** …for this long, then park the event as unmatched. */
  giveUpMs: number;
}

// The first webhook workflow version (three remote activities), kept so that events started
// before the upgrade finish on it; new events run webhookWorkflowV2 (workflows/webhook.ts).

/**
 * One provider event, workflow id `webhook:<provider>:<event id>`: Temporal starts it once
 * however often the provider delivers it. Reads the event from the inbox, finds the payment by the
 * provider's charge id (waiting a while for a charge we have not recorded yet), and signals
 * the payment workflow, which applies it idempotently.
 */
export async function webhookWorkflow(input: WebhookInput): Promise<{ outcome: string; paymentId: string | null }> {
  const event = await recordWebhookEvent({ provider: input.provider, eventId: input.eventId });
  const mark = async (outcome: 'delivered' | 'unmatched' | 'ignored', paymentId: string | null) => {
    await markWebhookEvent({ provider: input.provider, eventId: event.eventId, outcome, paymentId });
    return { outcome, paymentId };
  };
  if (event.chargeId === null) return mark('ignored', null);

  let paymentId = await findPaymentForCharge({ provider: input.provider, chargeId: event.chargeId });
  // Parked: the charge may belong to a payment whose authorization we have not recorded yet.
  for (let waitedMs = 0; paymentId === null && waitedMs < input.giveUpMs;) {
    const stepMs = Math.min(input.retryMs, input.giveUpMs - waitedMs);
    await sleep(stepMs);
    waitedMs += stepMs;
    paymentId = await findPaymentForCharge({ provider: input.provider, chargeId: event.chargeId });
  }
  if (paymentId === null) return mark('unmatched', null);

  try {
    await getExternalWorkflowHandle(paymentId).signal(providerEventSignal, event);
  } catch {
    // The payment's workflow has ended (its refund window closed): nothing left to update.
    return mark('ignored', paymentId);
  }
  return mark('delivered', paymentId);
}
