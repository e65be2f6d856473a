import type { FastifyInstance } from 'fastify';
import type { SimEvent } from '../../src/provider-sim/processor.ts';
import { paypalSigner, paypalWebhookEvents } from '../../src/provider-sim/paypal-shapes.ts';
import { stripeSigner, stripeWebhookEvents } from '../../src/provider-sim/stripe-shapes.ts';
import { simChargeOf, type AdminCharge } from './simulator-charges.ts';

// Provider events sent straight to our webhook route, in the provider's own shapes (the
// simulator's builders) and signed with its secret, re-announcing what the provider already
// announced under new event ids: an older refund total (Stripe), a refund or a dispute again, the
// charge's own state. The inbox takes each as new; the payment must change nothing.

export type Redelivery = 'refunds' | 'dispute' | 'charge';

/** The event to send again, or undefined when the charge has nothing of that kind. */
function eventFor(charge: AdminCharge, what: Redelivery): SimEvent | undefined {
  const sim = simChargeOf(charge);
  const [refund] = sim.refunds;
  const [dispute] = sim.disputes;
  switch (what) {
    case 'refunds':
      if (!refund) return undefined;
      // Stripe: the total as it stood after the first half of the refunds, an older total;
      // PayPal: the first refund again.
      return {
        type: 'charge.refunded',
        charge: { ...sim, refunds: sim.refunds.slice(0, Math.floor(sim.refunds.length / 2)) },
        refund,
      };
    case 'dispute':
      return dispute ? { type: 'dispute.created', charge: sim, dispute } : undefined;
    case 'charge':
      return { type: 'charge.succeeded', charge: sim };
  }
}

/** Sends the events; how many were sent (0: nothing of that kind to announce). */
export async function redeliver(
  app: FastifyInstance,
  charge: AdminCharge,
  what: Redelivery,
  secret: string,
): Promise<number> {
  const event = eventFor(charge, what);
  if (!event) return 0;
  const nowMs = Date.now();
  const webhooks = charge.provider === 'stripe' ? stripeWebhookEvents(event, nowMs) : paypalWebhookEvents(event, nowMs);
  const sign = charge.provider === 'stripe' ? stripeSigner : paypalSigner;
  for (const webhook of webhooks) {
    const response = await app.inject({
      method: 'POST',
      url: `/v1/webhooks/${charge.provider}`,
      headers: { 'content-type': 'application/json', ...sign(secret, webhook.body, nowMs) },
      payload: webhook.body,
    });
    if (response.statusCode !== 200) {
      throw new Error(`webhook ${webhook.type} sent again answered ${response.statusCode}: ${response.body}`);
    }
  }
  return webhooks.length;
}
