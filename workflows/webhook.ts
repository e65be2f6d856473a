import { proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { ProviderName } from '../src/providers/provider.ts';
import type { Activities } from './activity-types.ts';
import { recordLocalActivity } from './activity-options.ts';

// Version 2 of the webhook workflow: one local activity routes the event (and signals its
// payment when it moves money), so the echo of our own charge costs one workflow task.

const inbox = proxyLocalActivities<Pick<Activities, 'routeProviderEvent' | 'markWebhookEvent'>>(recordLocalActivity);

export interface WebhookInput {
  provider: ProviderName;
  /** The provider's event id; the event itself waits in the inbox (webhook_events). */
  eventId: string;
  /** While the charge is unknown, look again this often… */
  retryMs: number;
  /** …for this long, then park the event as unmatched. */
  giveUpMs: number;
}

/**
 * One provider event, workflow id `webhook:<provider>:<event id>`: Temporal starts it once
 * however often the provider delivers it. Finds the payment by the provider's charge id,
 * waiting a while for a charge we have not recorded yet, and hands the event to it.
 */
export async function webhookWorkflowV2(input: WebhookInput): Promise<{ outcome: string; paymentId: string | null }> {
  const event = { provider: input.provider, eventId: input.eventId };
  let routed = await inbox.routeProviderEvent(event);
  // Parked: the charge may belong to a payment whose authorization we have not recorded yet.
  for (let waitedMs = 0; routed.outcome === 'pending' && waitedMs < input.giveUpMs;) {
    const stepMs = Math.min(input.retryMs, input.giveUpMs - waitedMs);
    await sleep(stepMs);
    waitedMs += stepMs;
    routed = await inbox.routeProviderEvent(event);
  }
  if (routed.outcome !== 'pending') return routed;
  await inbox.markWebhookEvent({ ...event, outcome: 'unmatched', paymentId: null });
  return { outcome: 'unmatched', paymentId: null };
}
