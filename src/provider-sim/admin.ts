import type { FastifyError, FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { toJsonAmount } from '../domain/money.ts';
import { simOperations } from './faults.ts';
import { simProviders, type SimProvider } from './options.ts';
import { refundedTotal, type SimCharge } from './processor.ts';
import { paypalDispute } from './paypal-shapes.ts';
import type { Simulator } from './simulator.ts';
import { stripeDispute, stripePayout } from './stripe-shapes.ts';

// The test harness's handle on the simulator: faults (timeouts of chosen operations among
// them), webhook behaviour, counters, charges by payment id, payouts by our payout id,
// disputes, reset. Errors here are plain { error: { code, message } }.

const Provider = Type.Union([Type.Literal('stripe'), Type.Literal('paypal')]);
const Rate = Type.Number({ minimum: 0, maximum: 1 });

const FaultsBody = Type.Object(
  {
    provider: Type.Optional(Provider),
    error_rate: Type.Optional(Rate),
    latency_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    outage_seconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400 })),
    /** Share of accepted payouts the bank returns when they arrive (payout.failed). */
    payout_failure_rate: Type.Optional(Rate),
  },
  { additionalProperties: false },
);
const PayoutsQuery = Type.Object(
  {
    payout_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
  },
  { additionalProperties: false },
);
const TimeoutBody = Type.Object(
  {
    provider: Type.Optional(Provider),
    operation: Type.Union(simOperations.map((operation) => Type.Literal(operation))),
    /** true: the provider acts and the answer is lost; false: the request is lost before it. */
    processed: Type.Boolean(),
    count: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
    /** Only requests about this payment: its idempotency keys, its lookups, its charge's routes. */
    payment_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  },
  { additionalProperties: false },
);
const ProviderQuery = Type.Object({ provider: Type.Optional(Provider) }, { additionalProperties: false });
const ChargesQuery = Type.Object(
  {
    payment_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    provider: Type.Optional(Provider),
    limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
  },
  { additionalProperties: false },
);
const DisputeBody = Type.Object(
  {
    charge_id: Type.String({ minLength: 1, maxLength: 255 }),
    /** Default: the whole captured amount. */
    amount: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z_]+$' })),
  },
  { additionalProperties: false },
);
const WebhooksBody = Type.Object(
  {
    provider: Type.Optional(Provider),
    duplicate_rate: Type.Optional(Rate),
    out_of_order: Type.Optional(Type.Boolean()),
    /** null stops deliveries. */
    url: Type.Optional(Type.Union([Type.String({ pattern: '^https?://', maxLength: 2048 }), Type.Null()])),
    secret: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  },
  { additionalProperties: false },
);

const chosen = (provider: SimProvider | undefined): readonly SimProvider[] => (provider ? [provider] : simProviders);

function chargeView(charge: SimCharge) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    provider: charge.provider,
    id: charge.id,
    payment_id: charge.paymentId ?? null,
    status: charge.status,
    decline_code: charge.declineCode ?? null,
    amount: toJsonAmount(charge.amount),
    amount_captured: toJsonAmount(charge.amountCaptured),
    amount_refunded: toJsonAmount(refundedTotal(charge)),
    currency: charge.currency,
    token: charge.token,
    card: { brand: charge.brand, last4: charge.last4 },
    refunds: charge.refunds.map((refund) => ({
      id: refund.id,
      amount: toJsonAmount(refund.amount),
      created: iso(refund.createdAtMs),
    })),
    disputes: charge.disputes.map((dispute) => ({
      id: dispute.id,
      amount: toJsonAmount(dispute.amount),
      reason: dispute.reason,
      created: iso(dispute.createdAtMs),
    })),
    created: iso(charge.createdAtMs),
  };
}

export async function adminRoutes(fastify: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const adminError = (code: string, message: string) => ({ error: { code, message } });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error.validation) return reply.code(400).send(adminError('parameter_invalid', error.message));
    if (error.code?.startsWith('FST_ERR_CTP_')) return reply.code(400).send(adminError('invalid_json', error.message));
    return reply.code(500).send(adminError('internal_error', error.message));
  });

  app.get('/admin/faults', async () => sim.faults.view(sim.now()));

  app.post('/admin/faults', { schema: { body: FaultsBody } }, async (request) => {
    const { provider, error_rate = 0, latency_ms = 0, outage_seconds = 0, payout_failure_rate = 0 } = request.body;
    sim.faults.set(
      chosen(provider),
      {
        errorRate: error_rate,
        latencyMs: latency_ms,
        outageSeconds: outage_seconds,
        payoutFailureRate: payout_failure_rate,
      },
      sim.now(),
    );
    return sim.faults.view(sim.now());
  });

  // The next `count` requests of the operation (about the payment, if one is named) get no
  // answer before their caller gives up.
  app.post('/admin/faults/timeouts', { schema: { body: TimeoutBody } }, async (request) => {
    const { provider, operation, processed, count, payment_id: paymentId } = request.body;
    sim.faults.addTimeout(chosen(provider), { operation, processed, remaining: count, paymentId });
    return sim.faults.view(sim.now());
  });

  app.delete('/admin/faults', { schema: { querystring: ProviderQuery } }, async (request) => {
    sim.faults.clear(chosen(request.query.provider));
    return sim.faults.view(sim.now());
  });

  app.get('/admin/stats', async () => {
    const webhooks = sim.webhooks.statsView();
    const view = (provider: SimProvider) => ({ ...sim.processors[provider].stats, webhooks: webhooks[provider] });
    return { stripe: { ...view('stripe'), payouts: { ...sim.payouts.stats } }, paypal: view('paypal') };
  });

  // Payouts (the Stripe personality's), optionally those made for one payout id of ours.
  app.get('/admin/payouts', { schema: { querystring: PayoutsQuery } }, async (request) => {
    const { payout_id: payoutId, limit } = request.query;
    const data: ReturnType<typeof stripePayout>[] = [];
    for (const payout of sim.payouts.all()) {
      if (data.length >= limit) break;
      if (payoutId === undefined || payout.payoutId === payoutId) data.push(stripePayout(payout));
    }
    return { object: 'list', data };
  });

  app.get('/admin/charges', { schema: { querystring: ChargesQuery } }, async (request) => {
    const { payment_id: paymentId, provider, limit } = request.query;
    const data: ReturnType<typeof chargeView>[] = [];
    for (const name of chosen(provider)) {
      for (const charge of sim.processors[name].all()) {
        if (data.length >= limit) break;
        if (paymentId === undefined || charge.paymentId === paymentId) data.push(chargeView(charge));
      }
    }
    return { object: 'list', data };
  });

  app.post('/admin/disputes', { schema: { body: DisputeBody } }, async (request, reply) => {
    const charge = sim.findCharge(request.body.charge_id);
    if (!charge) return reply.code(404).send(adminError('resource_missing', 'No such charge.'));
    const amount = request.body.amount === undefined ? charge.amountCaptured : BigInt(request.body.amount);
    const outcome = sim.processors[charge.provider].dispute(charge.id, amount, request.body.reason ?? 'fraudulent');
    if (!outcome.ok) {
      const { failure } = outcome;
      return failure.kind === 'amount_too_large'
        ? reply.code(400).send(adminError('amount_too_large', `A dispute cannot exceed ${failure.limit}.`))
        : reply.code(409).send(adminError('charge_not_captured', 'Only captured charges can be disputed.'));
    }
    const { dispute } = outcome.value;
    return reply.code(201).send({
      provider: charge.provider,
      dispute: charge.provider === 'stripe' ? stripeDispute(charge, dispute) : paypalDispute(charge, dispute),
    });
  });

  app.get('/admin/webhooks', async () => sim.webhooks.view());

  app.post('/admin/webhooks', { schema: { body: WebhooksBody } }, async (request, reply) => {
    const { provider, duplicate_rate, out_of_order, url, secret } = request.body;
    try {
      for (const name of chosen(provider)) {
        sim.webhooks.configure(name, { url, secret, duplicateRate: duplicate_rate, outOfOrder: out_of_order });
      }
    } catch (error) {
      return reply.code(400).send(adminError('parameter_invalid', (error as Error).message));
    }
    return sim.webhooks.view();
  });

  app.post('/admin/reset', async () => {
    sim.reset();
    return { reset: true };
  });
}
