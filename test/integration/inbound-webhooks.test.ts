import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import { paypalSignature, stripeSignatureHeader } from '../../src/providers/webhook-signatures.ts';
import { createStripeProvider } from '../../src/providers/stripe.ts';
import { resourceIdFor } from '../../src/api/workflow-runs.ts';
import { freePort } from '../../src/temporal/dev-server.ts';
import { systemAccountId } from '../../src/ledger/ledger.ts';
import { sweepWebhookInboxOnce } from '../../src/webhooks/inbox.ts';

let stack: Stack;
let merchant: { id: string; apiKey: string };
let api: ReturnType<typeof paymentsClient>;

beforeAll(async () => {
  stack = await startStack('inbound', {
    rateLimitPerSecond: 10_000,
    webhookSecretsStripe: ['whsec_new', 'whsec_old'],
    webhookSecretsPaypal: ['whsec_paypal'],
    unmatchedRetryMs: 500,
    unmatchedGiveUpMs: 1_500,
    settlementDelayMs: 60_000,
  });
  merchant = await stack.merchant();
  api = paymentsClient(stack, merchant);
});
afterAll(async () => stack?.close());

const nowSeconds = () => Math.floor(Date.now() / 1000);
let eventCounter = 0;
const eventId = () => `evt_test_${Date.now()}_${++eventCounter}`;

function chargeObject(chargeId: string, fields: { amount: number; captured: number; refunded: number }) {
  return {
    id: chargeId,
    object: 'charge',
    amount: fields.amount,
    amount_captured: fields.captured,
    amount_refunded: fields.refunded,
    captured: fields.captured > 0,
    refunded: fields.refunded === fields.amount,
    status: 'succeeded',
    currency: 'usd',
    metadata: {},
    payment_method_details: { type: 'card', card: { brand: 'visa', last4: '4242' } },
  };
}

function stripeEvent(type: string, object: object, id = eventId()) {
  return JSON.stringify({ id, object: 'event', type, created: nowSeconds(), data: { object } });
}

function sendStripe(body: string, options: { secret?: string; timestamp?: number; signedBody?: string } = {}) {
  const signature = stripeSignatureHeader(
    options.secret ?? 'whsec_new',
    options.signedBody ?? body,
    options.timestamp ?? nowSeconds(),
  );
  return stack.app.inject({
    method: 'POST',
    url: '/v1/webhooks/stripe',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    payload: body,
  });
}

async function chargeOf(paymentId: string): Promise<string> {
  const row = await stack.prisma.payment.findUniqueOrThrow({ where: { id: paymentId } });
  if (!row.providerChargeId) throw new Error('payment has no charge');
  return row.providerChargeId;
}

async function outcome(externalId: string) {
  return (await stack.prisma.webhookEvent.findFirst({ where: { externalId } }))?.outcome;
}

describe('inbound signatures', () => {
  it('accepts a valid signature and a signature by the previous (rotated) secret', async () => {
    for (const secret of ['whsec_new', 'whsec_old']) {
      const response = await sendStripe(stripeEvent('customer.created', { id: 'cus_1' }), { secret });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ received: true, duplicate: false });
    }
  });

  it.each([
    ['a wrong secret', { secret: 'whsec_wrong' }],
    ['a tampered body', { signedBody: '{"id":"evt_other"}' }],
    ['a stale timestamp', { timestamp: Math.floor(Date.now() / 1000) - 301 }],
  ])('refuses %s with 400 and records nothing', async (_name, options) => {
    const id = eventId();
    const response = await sendStripe(stripeEvent('charge.succeeded', { id: 'ch_x' }, id), options);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ type: 'invalid_request_error', code: 'webhook_signature_invalid' });
    expect(await stack.prisma.webhookEvent.count({ where: { externalId: id } })).toBe(0);
    await expect(stack.temporal.workflow.getHandle(`webhook:stripe:${id}`).describe()).rejects.toThrow();
  });

  it('refuses a missing signature, an unknown provider, and malformed JSON after a valid signature', async () => {
    const missing = await stack.app.inject({
      method: 'POST',
      url: '/v1/webhooks/stripe',
      headers: { 'content-type': 'application/json' },
      payload: stripeEvent('charge.succeeded', { id: 'ch_x' }),
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.code).toBe('webhook_signature_invalid');
    const unknown = await stack.app.inject({
      method: 'POST',
      url: '/v1/webhooks/adyen',
      headers: { 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('resource_missing');
    const malformed = await sendStripe('{"id": "evt_broken",');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('invalid_json');
  });

  it('verifies PayPal transmissions too', async () => {
    const body = JSON.stringify({ id: `WH-${eventId()}`, event_type: 'BILLING.PLAN.CREATED', resource: {} });
    const transmissionId = 'tx-1';
    const transmissionTime = new Date().toISOString();
    const headers = {
      'content-type': 'application/json',
      'paypal-transmission-id': transmissionId,
      'paypal-transmission-time': transmissionTime,
      'paypal-transmission-sig': paypalSignature('whsec_paypal', { transmissionId, transmissionTime, rawBody: body }),
    };
    const ok = await stack.app.inject({ method: 'POST', url: '/v1/webhooks/paypal', headers, payload: body });
    expect(ok.json()).toEqual({ received: true, duplicate: false });
    const bad = await stack.app.inject({
      method: 'POST',
      url: '/v1/webhooks/paypal',
      headers: { ...headers, 'paypal-transmission-sig': 'AAAA' },
      payload: body,
    });
    expect(bad.statusCode).toBe(400);
  });
});

describe('exactly-once processing', () => {
  it('turns 50 concurrent deliveries of one dispute into one workflow, one record and one state change', async () => {
    const payment = (await api.create({ amount: 10_000, currency: 'USD', source: card() })).json();
    const chargeId = await chargeOf(payment.id);
    const body = stripeEvent('charge.dispute.created', {
      id: 'dp_1',
      object: 'dispute',
      amount: 2_000,
      charge: chargeId,
    });
    const responses = await Promise.all(Array.from({ length: 50 }, () => sendStripe(body)));
    expect(responses.every((response) => response.statusCode === 200)).toBe(true);
    expect(responses.filter((response) => response.json().duplicate === false)).toHaveLength(1);
    const id = JSON.parse(body).id as string;
    await expect.poll(() => outcome(id)).toBe('delivered');
    expect(await stack.prisma.webhookEvent.count({ where: { externalId: id } })).toBe(1);
    await expect
      .poll(() =>
        stack.prisma.paymentEvent.count({ where: { paymentId: payment.id, type: 'payment.dispute_created' } }),
      )
      .toBe(1);
    const disputes = (await api.ledger(payment.id)).filter((transaction) => transaction.kind === 'dispute');
    expect(disputes).toHaveLength(1);
    expect(disputes[0]?.entries.find((entry) => entry.account_id === systemAccountId('disputes', 'USD'))?.amount).toBe(
      2_000,
    );
  });
});

describe('disputes and refunds', () => {
  it('refuses to refund what a dispute already took back: the payer never gets the money twice', async () => {
    const merchantApi = paymentsClient(stack, await stack.merchant());
    // An earlier sale leaves enough pending for the dispute to be funded from the merchant.
    await merchantApi.create({ amount: 10_000, currency: 'USD', source: card() });
    const payment = (await merchantApi.create({ amount: 1_000, currency: 'USD', source: card() })).json();
    expect(payment).toMatchObject({ status: 'succeeded', fee: 59, net_amount: 941 });
    const body = stripeEvent('charge.dispute.created', {
      id: `dp_${payment.id}`,
      object: 'dispute',
      amount: 1_000,
      charge: await chargeOf(payment.id),
    });
    expect((await sendStripe(body)).statusCode).toBe(200);
    await expect.poll(async () => merchantApi.eventTypes(payment.id)).toContain('payment.dispute_created');

    const refund = await merchantApi.act(payment.id, 'refunds', { amount: 941 });
    expect(refund.statusCode).toBe(409);
    expect(refund.json().error).toMatchObject({ code: 'payment_unexpected_state' });
    const partial = await merchantApi.act(payment.id, 'refunds', { amount: 1 });
    expect(partial.statusCode).toBe(409);

    // The merchant got 941, the dispute took 1,000 back: it kept paying the 59 fee, nothing more.
    const moves = (await merchantApi.ledger(payment.id)).map((transaction) => ({
      kind: transaction.kind,
      merchant: transaction.entries
        .filter((entry) => entry.account_id.startsWith('acct_pending_'))
        .reduce((sum, entry) => sum + entry.amount, 0),
    }));
    expect(moves).toEqual([
      { kind: 'payment_capture', merchant: 941 },
      { kind: 'dispute', merchant: -1_000 },
    ]);
  });
});

describe('out-of-order provider events', () => {
  it('applies refund totals once, whatever their order, and ignores echoes of our own refunds', async () => {
    const payment = (await api.create({ amount: 10_000, currency: 'USD', source: card() })).json();
    const chargeId = await chargeOf(payment.id);
    const newer = stripeEvent(
      'charge.refunded',
      chargeObject(chargeId, { amount: 10_000, captured: 10_000, refunded: 3_000 }),
    );
    const older = stripeEvent(
      'charge.refunded',
      chargeObject(chargeId, { amount: 10_000, captured: 10_000, refunded: 1_000 }),
    );
    const captured = stripeEvent(
      'charge.captured',
      chargeObject(chargeId, { amount: 10_000, captured: 10_000, refunded: 0 }),
    );
    for (const body of [newer, older, captured]) expect((await sendStripe(body)).statusCode).toBe(200);
    for (const body of [newer, older, captured])
      await expect.poll(() => outcome(JSON.parse(body).id)).toBe('delivered');
    await expect.poll(async () => (await api.get(payment.id)).amount_refunded).toBe(3_000);

    const ours = await api.act(payment.id, 'refunds', { amount: 2_000 });
    expect(ours.statusCode).toBe(201);
    const echo = stripeEvent(
      'charge.refunded',
      chargeObject(chargeId, { amount: 10_000, captured: 10_000, refunded: 5_000 }),
    );
    await sendStripe(echo);
    await expect.poll(() => outcome(JSON.parse(echo).id)).toBe('delivered');
    const after = await api.get(payment.id);
    expect(after.amount_refunded).toBe(5_000);
    // The provider's refunds may be booked as one (3,000) or in steps (1,000 then 2,000),
    // depending on which event arrived first; they always add up to its latest total.
    const amounts = after.refunds.map((refund: { amount: number }) => refund.amount) as number[];
    expect(amounts.at(-1)).toBe(2_000);
    expect(amounts.slice(0, -1).reduce((sum, amount) => sum + amount, 0)).toBe(3_000);
  });

  it('buffers a refund reported before our capture finished and applies it after', async () => {
    const created = (
      await api.create({ amount: 8_000, currency: 'USD', source: card(), capture_method: 'manual' })
    ).json();
    const chargeId = await chargeOf(created.id);
    const early = stripeEvent(
      'charge.refunded',
      chargeObject(chargeId, { amount: 8_000, captured: 8_000, refunded: 1_500 }),
    );
    await sendStripe(early);
    await expect.poll(() => outcome(JSON.parse(early).id)).toBe('delivered');
    expect((await api.get(created.id)).amount_refunded).toBe(0);

    expect((await api.act(created.id, 'capture', {})).statusCode).toBe(200);
    await expect.poll(async () => (await api.get(created.id)).amount_refunded).toBe(1_500);
  });
});

describe('unknown charges', () => {
  it('ignores the echo of a declined charge at once: it holds no money, so nothing is parked', async () => {
    const declined = (
      await api.create({ amount: 2_000, currency: 'USD', source: { type: 'card', token: 'tok_chargeDeclined' } })
    ).json();
    expect(declined).toMatchObject({ status: 'failed', failure_code: 'card_declined' });
    const body = stripeEvent('charge.failed', {
      ...chargeObject('ch_declined_unknown', { amount: 2_000, captured: 0, refunded: 0 }),
      status: 'failed',
    });
    expect((await sendStripe(body)).statusCode).toBe(200);
    const id = JSON.parse(body).id as string;
    await expect.poll(() => outcome(id)).toBe('ignored');
    const workflow = await stack.temporal.workflow.getHandle(`webhook:stripe:${id}`).result();
    expect(workflow).toEqual({ outcome: 'ignored', paymentId: null });
  });

  it('parks an event until its payment appears, then delivers it', async () => {
    const key = 'parked-payment';
    const paymentId = resourceIdFor('pay', `payment:${merchant.id}:${key}`);
    // The provider answers the authorization before we record it: make the same authorization
    // (same idempotency key) first and announce its charge.
    const stripe = createStripeProvider({ baseUrl: `${stack.simUrl}/stripe`, timeoutMs: 2_000 });
    const { chargeId } = await stripe.authorize({
      idempotencyKey: `${paymentId}:authorize:stripe`,
      paymentId,
      amount: 4_200n,
      currency: 'USD',
      token: 'tok_visa',
      capture: true,
    });
    const early = stripeEvent(
      'charge.succeeded',
      chargeObject(chargeId, { amount: 4_200, captured: 4_200, refunded: 0 }),
    );
    await sendStripe(early);
    const id = JSON.parse(early).id as string;
    await expect
      .poll(() => stack.prisma.webhookEvent.findFirst({ where: { externalId: id } }))
      .toMatchObject({ outcome: 'pending' });

    const payment = await api.create({ amount: 4_200, currency: 'USD', source: card() }, key);
    expect(payment.json()).toMatchObject({ id: paymentId, status: 'succeeded' });
    expect(await chargeOf(paymentId)).toBe(chargeId);
    await expect.poll(() => outcome(id)).toBe('delivered');
    expect((await stack.prisma.webhookEvent.findFirst({ where: { externalId: id } }))?.paymentId).toBe(paymentId);
  });

  it('marks an event unmatched after parking and lists it for operators', async () => {
    const body = stripeEvent('charge.captured', chargeObject('ch_nobody', { amount: 100, captured: 100, refunded: 0 }));
    await sendStripe(body);
    const id = JSON.parse(body).id as string;
    await expect.poll(() => outcome(id), { timeout: 10_000 }).toBe('unmatched');
    const listed = await stack.app.inject({
      method: 'GET',
      url: '/v1/admin/webhook_events?outcome=unmatched',
      headers: bearer(stack.adminApiKey),
    });
    expect(listed.json().data).toContainEqual(
      expect.objectContaining({ external_id: id, outcome: 'unmatched', charge_id: 'ch_nobody' }),
    );
  });
});

describe('the simulator delivering real webhooks', () => {
  it('delivers a dispute created at the provider to the payment and the ledger', async () => {
    const port = await freePort();
    await stack.app.listen({ host: '127.0.0.1', port });
    const configured = await stack.sim.inject({
      method: 'POST',
      url: '/admin/webhooks',
      payload: { provider: 'stripe', url: `http://127.0.0.1:${port}/v1/webhooks/stripe`, secret: 'whsec_new' },
    });
    expect(configured.statusCode).toBeLessThan(300);
    const payment = (await api.create({ amount: 5_000, currency: 'USD', source: card() })).json();
    const chargeId = await chargeOf(payment.id);
    const dispute = await stack.sim.inject({
      method: 'POST',
      url: '/admin/disputes',
      payload: { charge_id: chargeId, amount: 1_234 },
    });
    expect(dispute.statusCode).toBeLessThan(300);
    await expect
      .poll(async () => api.eventTypes(payment.id), {
        timeout: 10_000,
      })
      .toContain('payment.dispute_created');
    const disputes = (await api.ledger(payment.id)).filter((transaction) => transaction.kind === 'dispute');
    expect(disputes).toHaveLength(1);
    expect(disputes[0]?.entries.map((entry) => entry.amount).sort((a, b) => a - b)).toEqual([-1_234, 1_234]);
  });
});

describe('the inbox sweeper', () => {
  it('starts the workflow of an event a crash left in the inbox', async () => {
    const id = eventId();
    // As if the API acknowledged the event and died before starting its workflow.
    await stack.prisma.webhookEvent.create({
      data: {
        id: `whev_${id}`,
        provider: 'stripe',
        externalId: id,
        type: 'customer.created',
        payload: { id, type: 'customer.created', data: { object: {} } },
        receivedAt: new Date(Date.now() - 60_000),
      },
    });
    expect(
      await sweepWebhookInboxOnce({ prisma: stack.prisma, temporal: stack.temporal, config: stack.config }),
    ).toBeGreaterThanOrEqual(1);
    await expect.poll(() => outcome(id)).toBe('ignored');
    const row = await stack.prisma.webhookEvent.findFirstOrThrow({ where: { externalId: id } });
    expect(row.workflowStartedAt).not.toBeNull();
  });
});
