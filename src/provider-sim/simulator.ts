import { setTimeout as sleepFor } from 'node:timers/promises';
import { Faults } from './faults.ts';
import { IdempotencyStore } from './idempotency.ts';
import {
  resolveSimOptions,
  simProviders,
  type ProviderSimOptions,
  type ResolvedSimOptions,
  type SimProvider,
} from './options.ts';
import { paypalSigner, paypalWebhookEvents } from './paypal-shapes.ts';
import { Processor, type IdFactory, type SimCharge, type SimEvent } from './processor.ts';
import { PayoutDesk } from './payouts.ts';
import { paypalId, stripeId } from './sim-ids.ts';
import { stripePayoutWebhookEvent, stripeSigner, stripeWebhookEvents } from './stripe-shapes.ts';
import { WebhookDispatcher, type WebhookEvent } from './webhooks.ts';

// All the simulator's state, shared by the personality, admin and health routes.

export interface Simulator {
  readonly options: ResolvedSimOptions;
  readonly processors: Record<SimProvider, Processor>;
  readonly idempotency: Record<SimProvider, IdempotencyStore>;
  readonly faults: Faults;
  readonly webhooks: WebhookDispatcher;
  /** Payouts to merchants' banks (the Stripe personality's /v1/payouts). */
  readonly payouts: PayoutDesk;
  now(): number;
  /** Waits, unless the simulator closes or `signal` aborts first; true when the full time passed. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
  findCharge(id: string): SimCharge | undefined;
  /** Forgets charges, keys, counters and faults; webhook settings go back to the startup options. */
  reset(): void;
  /** Ends sleeps and webhook deliveries so the server can close at once. */
  close(): void;
}

const ids: Record<SimProvider, IdFactory> = {
  stripe: { charge: () => stripeId('ch'), refund: () => stripeId('re'), dispute: () => stripeId('dp') },
  paypal: { charge: paypalId, refund: paypalId, dispute: () => `PP-D-${paypalId()}` },
};

const webhookEvents: Record<SimProvider, (event: SimEvent, nowMs: number) => WebhookEvent[]> = {
  stripe: stripeWebhookEvents,
  paypal: paypalWebhookEvents,
};

export function createSimulator(input: ProviderSimOptions = {}): Simulator {
  const options = resolveSimOptions(input);
  const now = () => options.now();
  const closing = new AbortController();
  const webhooks = new WebhookDispatcher(
    {
      maxAttempts: options.webhookMaxAttempts,
      baseDelayMs: options.webhookBaseDelayMs,
      timeoutMs: options.webhookTimeoutMs,
      reorderWindowMs: options.webhookReorderWindowMs,
      maxPending: options.maxPendingWebhooks,
      duplicateRate: options.webhookDuplicateRate,
      outOfOrder: options.webhookOutOfOrder,
      now,
    },
    { stripe: options.stripe, paypal: options.paypal },
    { stripe: stripeSigner, paypal: paypalSigner },
  );

  const processor = (provider: SimProvider) =>
    new Processor(
      provider,
      {
        maxCharges: options.maxCharges,
        maxIdempotencyKeys: options.maxIdempotencyKeys,
        maxChargeAmountMinor: BigInt(options.maxChargeAmountMinor),
        now,
      },
      ids[provider],
      // The event's body is built now, with the charge as it is now; delivery comes later.
      (event) => {
        for (const webhook of webhookEvents[provider](event, now())) webhooks.publish(provider, webhook);
      },
    );
  const processors = { stripe: processor('stripe'), paypal: processor('paypal') };
  const idempotency = {
    stripe: new IdempotencyStore(options.maxIdempotencyKeys),
    paypal: new IdempotencyStore(options.maxIdempotencyKeys),
  };
  const faults = new Faults();
  const payouts = new PayoutDesk(
    {
      maxPayouts: options.maxPayouts,
      maxAmountMinor: BigInt(options.maxChargeAmountMinor),
      arrivalMs: options.payoutArrivalMs,
      now,
    },
    () => stripeId('po'),
    () => faults.payoutFailureRate('stripe'),
    (event) => webhooks.publish('stripe', stripePayoutWebhookEvent(event, now())),
  );

  return {
    options,
    processors,
    idempotency,
    faults,
    webhooks,
    payouts,
    now,
    async sleep(ms, signal) {
      if (ms <= 0) return true;
      try {
        await sleepFor(ms, undefined, { signal: signal ? AbortSignal.any([closing.signal, signal]) : closing.signal });
        return true;
      } catch {
        return false;
      }
    },
    findCharge(id) {
      for (const provider of simProviders) {
        const charge = processors[provider].get(id);
        if (charge) return charge;
      }
      return undefined;
    },
    reset() {
      for (const provider of simProviders) {
        processors[provider].reset();
        idempotency[provider].clear();
      }
      payouts.reset();
      faults.clear();
      webhooks.reset();
    },
    close() {
      closing.abort();
      payouts.close();
      webhooks.close();
    },
  };
}
