import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';

// One public shape per resource: an event's data.object is exactly what GET on its resource
// answered at that version, with no internal field, amounts as JSON integers, and a refund
// event carries the refund. Real API, Temporal, worker and PostgreSQL.

type Json = Record<string, unknown>;
interface PublicEvent {
  id: string;
  object: 'event';
  type: string;
  created_at: string;
  data: { object: Json };
}

const paymentKeys = [
  'amount',
  'amount_capturable',
  'amount_captured',
  'amount_refunded',
  'cancellation_reason',
  'capture_method',
  'created_at',
  'currency',
  'customer',
  'description',
  'failure_code',
  'failure_message',
  'fee',
  'id',
  'metadata',
  'net_amount',
  'object',
  'refunded',
  'refunds',
  'settled',
  'source',
  'status',
];
const refundKeys = ['amount', 'created_at', 'id', 'object', 'payment_id', 'reason', 'status'];
const depositKeys = [
  'account_id',
  'amount',
  'created_at',
  'currency',
  'id',
  'object',
  'reference',
  'status',
  'transaction_id',
];
const transferKeys = [
  'amount',
  'created_at',
  'currency',
  'description',
  'failure_code',
  'failure_message',
  'from_account_id',
  'id',
  'object',
  'status',
  'to_account_id',
  'transaction_id',
];
const keysOf = (value: Json) => Object.keys(value).sort();
const poll = { timeout: 15_000, interval: 50 };

let stack: Stack;

beforeAll(async () => {
  stack = await startStack('public-shapes', {
    rateLimitPerSecond: 10_000,
    riskMaxPaymentsPerWindow: 1_000_000,
    settlementDelayMs: 300,
  });
});
afterAll(async () => {
  const report = await stack.app.inject({
    method: 'GET',
    url: '/v1/ledger/integrity',
    headers: bearer(stack.adminApiKey),
  });
  expect(report.json()).toMatchObject({ healthy: true, discrepancies: [] });
  await stack?.close();
});

async function merchantApi() {
  const merchant = await stack.merchant();
  const auth = bearer(merchant.apiKey);
  const get = async (url: string) => {
    const response = await stack.app.inject({ method: 'GET', url, headers: auth });
    expect([url, response.statusCode]).toEqual([url, 200]);
    return response.json<Json>();
  };
  const post = (url: string, payload: object, key = randomUUID()) =>
    stack.app.inject({ method: 'POST', url, headers: { ...auth, 'idempotency-key': key }, payload });
  /** The merchant's events, oldest first. */
  const events = async () => ((await get('/v1/events?limit=100')).data as PublicEvent[]).reverse();
  return { merchant, payments: paymentsClient(stack, merchant), get, post, events };
}

describe('public shapes', () => {
  it('announces a captured, partially refunded card payment with exactly what GET showed at each version', async () => {
    const { payments, get, events } = await merchantApi();
    const created = await payments.create({
      amount: 10_000,
      currency: 'USD',
      capture_method: 'manual',
      source: card('tok_visa'),
      customer: 'cus_shapes',
      description: 'order 7',
      metadata: { order: '7' },
    });
    expect(created.statusCode).toBe(201);
    const atAuthorized = created.json<Json>();
    const id = atAuthorized.id as string;
    expect(await payments.get(id)).toEqual(atAuthorized);

    const capture = await payments.act(id, 'capture', { amount: 10_000 });
    expect(capture.statusCode).toBe(200);
    const atCaptured = capture.json<Json>();
    expect(await payments.get(id)).toEqual(atCaptured);
    await expect.poll(async () => (await payments.get(id)).settled, poll).toBe(true);
    const atSettled = await payments.get(id);

    const refundAnswer = await payments.act(
      id,
      'refunds',
      { amount: 2_500, reason: 'requested_by_customer' },
      { 'idempotency-key': randomUUID() },
    );
    expect(refundAnswer.statusCode).toBe(201);
    const refund = refundAnswer.json<Json>();
    const afterRefund = await payments.get(id);

    // One refund, one shape and one created_at: the POST answer, GET, the payment's refunds.
    expect(keysOf(refund)).toEqual(refundKeys);
    expect(refund).toMatchObject({ object: 'refund', payment_id: id, amount: 2_500, status: 'succeeded' });
    expect(await get(`/v1/refunds/${refund.id as string}`)).toEqual(refund);
    expect(afterRefund).toMatchObject({ amount_refunded: 2_500, refunded: false, refunds: [refund] });

    const ofPayment = (await events()).filter(
      (event) => event.data.object.id === id || event.data.object.payment_id === id,
    );
    expect(ofPayment.map((event) => event.type)).toEqual([
      'payment.created',
      'payment.requires_capture',
      'payment.succeeded',
      'payment.settled',
      'refund.succeeded',
    ]);
    const [opened, authorized, captured, settled, refunded] = ofPayment.map((event) => event.data.object);
    // Version 1 is never answered by GET (the POST waits for a stable status): it is the
    // authorized payment before the provider answered.
    expect(opened).toEqual({
      ...atAuthorized,
      status: 'processing',
      amount_capturable: 0,
      source: { type: 'card', brand: null, last4: null, provider: null },
    });
    expect(authorized).toEqual(atAuthorized);
    expect(captured).toEqual(atCaptured);
    expect(settled).toEqual(atSettled);
    expect(refunded).toEqual(refund);
    for (const payment of [opened, authorized, captured, settled, afterRefund]) {
      expect(keysOf(payment!)).toEqual(paymentKeys);
    }
    expect(captured).toMatchObject({ amount: 10_000, amount_captured: 10_000, fee: 320, net_amount: 9_680 });
    for (const key of ['amount', 'amount_capturable', 'amount_captured', 'amount_refunded', 'fee', 'net_amount']) {
      expect([key, typeof captured![key]]).toEqual([key, 'number']);
    }

    // The timeline is the payment's own list, amounts as integers, facts of each change only.
    expect(await payments.timeline(id)).toEqual([
      { type: 'payment.created', created_at: expect.any(String), data: {} },
      { type: 'payment.requires_capture', created_at: expect.any(String), data: {} },
      { type: 'payment.succeeded', created_at: expect.any(String), data: { amount: 10_000, fee: 320 } },
      { type: 'payment.settled', created_at: expect.any(String), data: {} },
      { type: 'refund.succeeded', created_at: expect.any(String), data: { refund_id: refund.id, amount: 2_500 } },
    ]);
  });

  it('announces deposits and transfers with exactly what GET shows', async () => {
    const { get, post, events } = await merchantApi();
    const openAccount = async () =>
      (await post('/v1/accounts', { type: 'customer', currency: 'USD' })).json<{ id: string }>().id;
    const [from, to] = [await openAccount(), await openAccount()];
    const deposit = await post(`/v1/accounts/${from}/deposits`, { amount: 1_050, reference: 'wire 7' });
    expect(deposit.statusCode).toBe(201);
    const moved = await post('/v1/transfers', {
      from_account_id: from,
      to_account_id: to,
      amount: 300,
      currency: 'USD',
    });
    const refused = await post('/v1/transfers', {
      from_account_id: from,
      to_account_id: to,
      amount: 5_000,
      currency: 'USD',
      description: 'too much',
    });
    expect([moved.statusCode, refused.statusCode]).toEqual([201, 201]);

    const depositShown = await get(`/v1/deposits/${deposit.json<Json>().id as string}`);
    const movedShown = await get(`/v1/transfers/${moved.json<Json>().id as string}`);
    const refusedShown = await get(`/v1/transfers/${refused.json<Json>().id as string}`);
    expect([depositShown, movedShown, refusedShown]).toEqual([deposit.json(), moved.json(), refused.json()]);
    expect(depositShown).toMatchObject({ amount: 1_050, status: 'succeeded', account_id: from });
    expect(refusedShown).toMatchObject({ status: 'failed', failure_code: 'insufficient_funds', amount: 5_000 });

    const announced = await events();
    expect(announced.map((event) => [event.type, event.data.object])).toEqual([
      ['deposit.succeeded', depositShown],
      ['transfer.succeeded', movedShown],
      ['transfer.failed', refusedShown],
    ]);
    expect(keysOf(depositShown)).toEqual(depositKeys);
    expect(keysOf(movedShown)).toEqual(transferKeys);
    expect(keysOf(refusedShown)).toEqual(transferKeys);
  });

  it('still reads events and timelines recorded in the earlier shapes', async () => {
    const { merchant, payments, get } = await merchantApi();
    const payment = (await payments.create({ amount: 4_000, currency: 'USD', source: card() })).json<Json>();
    const id = payment.id as string;
    await expect.poll(async () => (await payments.get(id)).settled, poll).toBe(true);
    // An outbox row written before the public projections: the read-model row, snake-cased.
    const oldData = { id, object: 'payment', merchant_id: merchant.id, version: 3, change: { fee: '146' } };
    const old = await stack.prisma.event.create({
      data: {
        id: `evt_old_${randomUUID().replace(/-/g, '')}`,
        merchantId: merchant.id,
        type: 'payment.succeeded',
        resourceId: id,
        data: oldData,
        sourceKey: `test:old:${randomUUID()}`,
      },
    });
    expect((await get(`/v1/events/${old.id}`)).data).toEqual({ object: oldData });
    expect(((await get('/v1/events?limit=100')).data as PublicEvent[]).map((event) => event.id)).toContain(old.id);

    // Transitions recorded by the first workflow version kept amounts as digit strings, and
    // internal transitions and operator facts sit beside the public ones.
    await stack.prisma.paymentEvent.createMany({
      data: [
        {
          id: `pev_${randomUUID()}`,
          paymentId: id,
          version: 90,
          type: 'payment.orphan_release_failed',
          data: { providers: ['paypal'], message: 'connect ECONNREFUSED 10.0.0.7:443' },
        },
        {
          id: `pev_${randomUUID()}`,
          paymentId: id,
          version: 91,
          type: 'payment.dispute_created',
          data: { dispute_id: 'dp_old', amount: '1500', funded: false, code: 'insufficient_funds' },
        },
      ],
    });
    const timeline = await payments.timeline(id);
    expect(timeline.map((entry) => [entry.type, entry.data])).toEqual([
      ['payment.created', {}],
      ['payment.succeeded', { amount: 4_000, fee: 146 }],
      ['payment.settled', {}],
      ['payment.dispute_created', { dispute_id: 'dp_old', amount: 1_500 }],
    ]);
  });
});
