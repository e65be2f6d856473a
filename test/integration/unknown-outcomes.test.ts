import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import { merchantAccountId, systemAccountId } from '../../src/ledger/ledger.ts';
import { foldedAndCurrent } from '../support/payment-history.ts';

// A provider call whose answer never comes (the simulator's timeout faults: the provider acts
// and the answer is lost, or the request is lost before it) leaves its step unknown: the
// payment workflow looks the step up on OUTCOME_LOOKUP_SCHEDULE_MS and goes on from the
// provider's answer, at each step (authorize, capture, refund, void), and requires attention
// when the provider cannot tell until the last lookup. Real stack: Temporal, PostgreSQL, the
// simulator, NATS.

type Api = ReturnType<typeof paymentsClient>;
type Provider = 'stripe' | 'paypal';
type Operation = 'authorize' | 'capture' | 'void' | 'refund' | 'retrieve' | 'lookup';

/** Short waits, so a payment goes through every lookup within a test. */
const outcomeLookupScheduleMs = [200, 400, 800];
const providerTimeoutMs = 300;
const poll = { timeout: 15_000, interval: 100 };

let stack: Stack;

beforeAll(async () => {
  stack = await startStack(
    'unknown-outcomes',
    {
      outcomeLookupScheduleMs,
      providerTimeoutMs,
      rateLimitPerSecond: 10_000,
      riskBlockAboveMinor: { USD: 10_000_000n },
      // Not within a test: the ledger holds capture and refunds only.
      settlementDelayMs: 3_600_000,
      // The circuit stays closed: every request reaches the simulator and is counted.
      breakerVolumeThreshold: 1_000,
      // Longer than any lookup schedule here, shorter than a wait for an operator.
      paymentWaitMs: 5_000,
    },
    { hangMs: 2_000 },
  );
});

afterAll(async () => {
  await stack?.sim.inject({ method: 'DELETE', url: '/admin/faults' });
  if (stack) {
    // Every payment here, folded from its events (unknown and resolved outcomes, attention,
    // pending and failed refunds among them), is its read model.
    const histories = await foldedAndCurrent(stack.prisma, stack.merchantIds);
    expect(histories.length).toBeGreaterThan(10);
    for (const { id, folded, current } of histories) expect(folded, id).toEqual(current);
    const report = await stack.app.inject({
      method: 'GET',
      url: '/v1/ledger/integrity',
      headers: bearer(stack.adminApiKey),
    });
    expect(report.json()).toMatchObject({ healthy: true, discrepancies: [] });
  }
  await stack?.close();
});

// A test that failed halfway leaves no fault behind for the next one.
beforeEach(async () => {
  if (stack) await clearFaults();
});

async function newClient(): Promise<{ api: Api; merchantId: string; apiKey: string }> {
  const merchant = await stack.merchant();
  return { api: paymentsClient(stack, merchant), merchantId: merchant.id, apiKey: merchant.apiKey };
}

/** The next `count` requests of `operation` at `provider` get no answer in time. */
async function timeOut(provider: Provider, operation: Operation, processed: boolean, count = 1) {
  const response = await stack.sim.inject({
    method: 'POST',
    url: '/admin/faults/timeouts',
    payload: { provider, operation, processed, count },
  });
  expect(response.statusCode).toBe(200);
}

async function clearFaults() {
  expect((await stack.sim.inject({ method: 'DELETE', url: '/admin/faults' })).statusCode).toBe(200);
}

type SimStats = Record<Provider, Record<string, number>>;

async function simStats(): Promise<SimStats> {
  return (await stack.sim.inject({ method: 'GET', url: '/admin/stats' })).json<SimStats>();
}

/** The counters that changed between two snapshots, per provider. */
function changed(after: SimStats, before: SimStats) {
  const delta = (provider: Provider) =>
    Object.fromEntries(
      Object.entries(after[provider])
        .filter(([key, value]) => typeof value === 'number' && value !== before[provider][key])
        .map(([key, value]) => [key, value - (before[provider][key] ?? 0)]),
    );
  return { stripe: delta('stripe'), paypal: delta('paypal') };
}

interface SimCharge {
  provider: string;
  status: string;
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  refunds: { amount: number }[];
}

async function simCharges(paymentId: string): Promise<SimCharge[]> {
  const response = await stack.sim.inject({ method: 'GET', url: `/admin/charges?payment_id=${paymentId}` });
  return response.json<{ data: SimCharge[] }>().data;
}

/** Every transition the workflow recorded, internal ones included, oldest first. */
async function recordedTypes(paymentId: string): Promise<string[]> {
  const events = await stack.prisma.paymentEvent.findMany({ where: { paymentId }, orderBy: { version: 'asc' } });
  return events.map((event) => event.type);
}

const legs = (transaction: { entries: { account_id: string; amount: number }[] } | undefined) =>
  (transaction?.entries ?? []).map((entry) => [entry.account_id, entry.amount]).sort();

/** The capture of 10,000 USD at 2.9 % + 30: 320 to the platform, 9,680 pending for the merchant. */
const captureLegs = (merchantId: string) =>
  [
    [systemAccountId('provider_clearing', 'USD'), -10_000],
    [merchantAccountId('merchant_pending', merchantId, 'USD'), 9_680],
    [systemAccountId('platform_fees', 'USD'), 320],
  ].sort();

const statusOf = async (api: Api, id: string): Promise<string> => (await api.get(id)).status;

describe.each(['stripe', 'paypal'] as const)('%s: a lost answer is looked up', (provider) => {
  it('authorize: the provider charged, its answer was lost; the lookup finds the charge', async () => {
    const { api, merchantId } = await newClient();
    await timeOut(provider, 'authorize', true);
    const before = await simStats();
    const created = await api.create({ amount: 10_000, currency: 'USD', source: card('tok_visa', provider) });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      status: 'succeeded',
      amount_captured: 10_000,
      fee: 320,
      source: { type: 'card', provider, brand: 'visa', last4: '4242' },
    });
    const id: string = created.json().id;

    // One charge, found by the lookup: nothing was sent twice, nothing went to the other provider.
    expect(await simCharges(id)).toMatchObject([{ provider, status: 'captured', amount_captured: 10_000 }]);
    const other = provider === 'stripe' ? 'paypal' : 'stripe';
    expect(changed(await simStats(), before)).toEqual({
      [provider]: { requests: 2, charges: 1, timeouts: 1 },
      [other]: {},
    });
    expect(await recordedTypes(id)).toEqual(['payment.created', 'payment.outcome_unknown', 'payment.succeeded']);
    expect(await api.eventTypes(id)).toEqual(['payment.created', 'payment.succeeded']);
    const ledger = await api.ledger(id);
    expect(ledger.map((transaction) => transaction.kind)).toEqual(['payment_capture']);
    expect(legs(ledger[0])).toEqual(captureLegs(merchantId));
  });

  it('authorize: the request never arrived; the lookup finds nothing and the resend charges once', async () => {
    const { api } = await newClient();
    await timeOut(provider, 'authorize', false);
    const before = await simStats();
    const created = await api.create({
      amount: 10_000,
      currency: 'USD',
      source: card('tok_visa', provider),
      capture_method: 'manual',
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ status: 'requires_capture', amount_capturable: 10_000 });
    const id: string = created.json().id;
    expect(await simCharges(id)).toMatchObject([{ provider, status: 'authorized', amount: 10_000 }]);
    // The request that timed out, the lookup that found nothing, the resend with the same key.
    expect(changed(await simStats(), before)[provider]).toEqual({ requests: 3, charges: 1, timeouts: 1 });
    expect(await recordedTypes(id)).toEqual(['payment.created', 'payment.outcome_unknown', 'payment.requires_capture']);
    expect(await api.ledger(id)).toEqual([]);
    expect((await api.act(id, 'cancel')).statusCode).toBe(200);
  });

  it('capture: the provider captured, its answer was lost; the payment succeeds with one capture', async () => {
    const { api, merchantId } = await newClient();
    const created = await api.create({
      amount: 10_000,
      currency: 'USD',
      source: card('tok_visa', provider),
      capture_method: 'manual',
    });
    const id: string = created.json().id;
    await timeOut(provider, 'capture', true);
    const before = await simStats();
    const captured = await api.act(id, 'capture', {});
    expect(captured.statusCode).toBe(200);
    expect(captured.json()).toMatchObject({ status: 'succeeded', amount_captured: 10_000, amount_capturable: 0 });
    expect(await simCharges(id)).toMatchObject([{ provider, status: 'captured', amount_captured: 10_000 }]);
    expect(changed(await simStats(), before)[provider]).toMatchObject({ captures: 1, timeouts: 1 });
    expect(await recordedTypes(id)).toEqual([
      'payment.created',
      'payment.requires_capture',
      'payment.outcome_unknown',
      'payment.succeeded',
    ]);
    const ledger = await api.ledger(id);
    expect(ledger.map((transaction) => transaction.kind)).toEqual(['payment_capture']);
    expect(legs(ledger[0])).toEqual(captureLegs(merchantId));
  });

  it('capture: the request never arrived; the lookup sees the charge uncaptured and the resend captures once', async () => {
    const { api } = await newClient();
    const created = await api.create({
      amount: 10_000,
      currency: 'USD',
      source: card('tok_visa', provider),
      capture_method: 'manual',
    });
    const id: string = created.json().id;
    await timeOut(provider, 'capture', false);
    const captured = await api.act(id, 'capture', { amount: 6_000 });
    expect(captured.statusCode).toBe(200);
    expect(captured.json()).toMatchObject({ status: 'succeeded', amount_captured: 6_000 });
    expect(await simCharges(id)).toMatchObject([{ provider, status: 'captured', amount_captured: 6_000 }]);
    expect((await api.ledger(id)).map((transaction) => transaction.kind)).toEqual(['payment_capture']);
  });

  it('refund: the provider refunded, its answer was lost; one refund, booked once', async () => {
    const { api, merchantId } = await newClient();
    const created = await api.create({ amount: 10_000, currency: 'USD', source: card('tok_visa', provider) });
    const id: string = created.json().id;
    await timeOut(provider, 'refund', true);
    const before = await simStats();
    const refund = await api.act(id, 'refunds', { amount: 4_000 });
    expect(refund.statusCode).toBe(201);
    expect(refund.json()).toMatchObject({ object: 'refund', amount: 4_000, status: 'succeeded', payment_id: id });
    const refundId: string = refund.json().id;

    expect(await simCharges(id)).toMatchObject([
      { provider, status: 'captured', amount_captured: 10_000, amount_refunded: 4_000, refunds: [{ amount: 4_000 }] },
    ]);
    expect(changed(await simStats(), before)[provider]).toMatchObject({ refunds: 1, timeouts: 1 });
    expect(await api.get(id)).toMatchObject({ status: 'succeeded', amount_refunded: 4_000, refunds: [refund.json()] });
    // Recorded pending while looked up, then completed in place: one row, its first created_at.
    const row = await stack.prisma.refund.findUniqueOrThrow({ where: { id: refundId } });
    expect(row).toMatchObject({ status: 'succeeded', amount: 4_000n, providerRefundId: expect.any(String) });
    expect(row.createdAt.toISOString()).toBe(refund.json().created_at);
    expect(await recordedTypes(id)).toEqual([
      'payment.created',
      'payment.succeeded',
      'payment.outcome_unknown',
      'refund.succeeded',
    ]);
    const ledger = await api.ledger(id);
    expect(ledger.map((transaction) => transaction.kind)).toEqual(['payment_capture', 'refund']);
    // 4,000 of 10,000: 128 of the fee comes back, the merchant pays 3,872 out of pending.
    expect(legs(ledger[1])).toEqual(
      [
        [merchantAccountId('merchant_pending', merchantId, 'USD'), -3_872],
        [systemAccountId('platform_fees', 'USD'), -128],
        [systemAccountId('provider_clearing', 'USD'), 4_000],
      ].sort(),
    );
  });

  it('void: the provider voided, its answer was lost; canceled, nothing held, nothing booked', async () => {
    const { api } = await newClient();
    const created = await api.create({
      amount: 10_000,
      currency: 'USD',
      source: card('tok_visa', provider),
      capture_method: 'manual',
    });
    const id: string = created.json().id;
    await timeOut(provider, 'void', true);
    const before = await simStats();
    const canceled = await api.act(id, 'cancel');
    expect(canceled.statusCode).toBe(200);
    expect(canceled.json()).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'requested',
      amount_capturable: 0,
    });
    expect(await simCharges(id)).toMatchObject([{ provider, status: 'voided', amount_captured: 0 }]);
    expect(changed(await simStats(), before)[provider]).toMatchObject({ voids: 1, timeouts: 1 });
    expect(await recordedTypes(id)).toEqual([
      'payment.created',
      'payment.requires_capture',
      'payment.outcome_unknown',
      'payment.canceled',
    ]);
    expect(await api.ledger(id)).toEqual([]);
  });
});

describe('a step the provider never completes', () => {
  it('authorize on a card that never answers: every lookup finds nothing, the payment fails, nothing charged', async () => {
    const { api } = await newClient();
    const before = await simStats();
    const created = await api.create({ amount: 4_000, currency: 'USD', source: card('tok_timeout', 'stripe') });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      status: 'failed',
      failure_code: 'provider_unavailable',
      failure_message: 'No card processor could take the payment. Nothing was charged; try again later.',
      amount_captured: 0,
    });
    const id: string = created.json().id;
    // The first request and two resends time out; three lookups find nothing; the last lookup
    // comes after the last resend gave up, so nothing of ours can still be charging.
    expect(changed(await simStats(), before)).toEqual({ stripe: { requests: 6, timeouts: 3 }, paypal: {} });
    expect(await simCharges(id)).toEqual([]);
    expect(await api.ledger(id)).toEqual([]);
    expect(await recordedTypes(id)).toEqual(['payment.created', 'payment.outcome_unknown', 'payment.failed']);
  });

  it('capture never reaching the provider: the payment is back in requires_capture, the capture answers 503', async () => {
    const { api } = await newClient();
    const created = await api.create({
      amount: 10_000,
      currency: 'USD',
      source: card('tok_visa', 'stripe'),
      capture_method: 'manual',
    });
    const id: string = created.json().id;
    await timeOut('stripe', 'capture', false, 3);
    const captured = await api.act(id, 'capture', {});
    expect(captured.statusCode).toBe(503);
    expect(captured.json().error).toMatchObject({
      code: 'provider_unavailable',
      message: 'The card processor did not capture the payment. It can be captured again.',
    });
    expect(await api.get(id)).toMatchObject({ status: 'requires_capture', amount_capturable: 10_000 });
    expect(await simCharges(id)).toMatchObject([{ status: 'authorized', amount_captured: 0 }]);
    expect(await recordedTypes(id)).toEqual([
      'payment.created',
      'payment.requires_capture',
      'payment.outcome_unknown',
      'payment.outcome_resolved',
    ]);
    // The capture can be made again, once.
    const again = await api.act(id, 'capture', {});
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'succeeded', amount_captured: 10_000 });
    expect(await simCharges(id)).toMatchObject([{ status: 'captured', amount_captured: 10_000 }]);
  });
  it('refund never reaching the provider: the refund is failed, nothing refunded, the payment still succeeded', async () => {
    const { api, apiKey } = await newClient();
    const created = await api.create({ amount: 10_000, currency: 'USD', source: card('tok_visa', 'stripe') });
    const id: string = created.json().id;
    await timeOut('stripe', 'refund', false, outcomeLookupScheduleMs.length);
    const refund = await api.act(id, 'refunds', { amount: 1_000 }, { 'idempotency-key': `${id}-lost-refund` });
    expect(refund.statusCode).toBe(503);
    expect(refund.json().error).toMatchObject({
      code: 'provider_unavailable',
      message: 'The card processor did not make the refund. Nothing was refunded.',
    });
    const payment = await api.get(id);
    expect(payment).toMatchObject({ status: 'succeeded', amount_refunded: 0, refunds: [{ status: 'failed' }] });
    const refundId: string = payment.refunds[0].id;
    const shown = await stack.app.inject({ method: 'GET', url: `/v1/refunds/${refundId}`, headers: bearer(apiKey) });
    expect(shown.json()).toMatchObject({ id: refundId, amount: 1_000, status: 'failed' });
    expect(await simCharges(id)).toMatchObject([{ amount_refunded: 0, refunds: [] }]);
    expect((await api.ledger(id)).map((transaction) => transaction.kind)).toEqual(['payment_capture']);
    expect(await recordedTypes(id)).toEqual([
      'payment.created',
      'payment.succeeded',
      'payment.outcome_unknown',
      'payment.outcome_resolved',
    ]);
    // A new refund goes through.
    expect((await api.act(id, 'refunds', { amount: 1_000 })).statusCode).toBe(201);
    expect(await simCharges(id)).toMatchObject([{ amount_refunded: 1_000, refunds: [{ amount: 1_000 }] }]);
  });
});

describe('requires_attention: the provider cannot tell until the last lookup', () => {
  const admin = (method: 'GET' | 'POST', url: string) =>
    stack.app.inject({ method, url, headers: bearer(stack.adminApiKey) });

  it('authorize: requires_attention and its event, listed for operators; a lookup after the outage goes on', async () => {
    const { api, merchantId, apiKey } = await newClient();
    await timeOut('stripe', 'authorize', true);
    await timeOut('stripe', 'lookup', false, outcomeLookupScheduleMs.length);
    const created = await api.create({ amount: 10_000, currency: 'USD', source: card('tok_visa', 'stripe') });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      status: 'requires_attention',
      amount_captured: 0,
      fee: null,
      source: { provider: 'stripe', brand: null },
    });
    const id: string = created.json().id;
    // The provider holds the charge; our books hold nothing until it is known.
    expect(await simCharges(id)).toMatchObject([{ provider: 'stripe', status: 'captured' }]);
    expect(await api.ledger(id)).toEqual([]);

    expect(await api.timeline(id)).toEqual([
      { type: 'payment.created', created_at: expect.any(String), data: {} },
      { type: 'payment.attention_required', created_at: expect.any(String), data: { step: 'authorize' } },
    ]);
    const merchantGet = (url: string) => stack.app.inject({ method: 'GET', url, headers: bearer(apiKey) });
    const announced = await merchantGet('/v1/events?type=payment.attention_required');
    expect(announced.statusCode).toBe(200);
    expect(announced.json().data).toEqual([
      expect.objectContaining({ type: 'payment.attention_required', data: { object: await api.get(id) } }),
    ]);

    const queue = await admin('GET', '/v1/admin/payments?status=requires_attention&limit=100');
    expect(queue.statusCode).toBe(200);
    const entry = queue.json().data.find((item: { payment: { id: string } }) => item.payment.id === id);
    expect(entry).toEqual({
      object: 'admin_payment',
      merchant_id: merchantId,
      payment: await api.get(id),
      attention: {
        step: 'authorize',
        provider: 'stripe',
        refund_id: null,
        lookups: outcomeLookupScheduleMs.length,
        since: expect.any(String),
      },
    });
    // Merchants see it in their own list, never the operators' queue.
    const mine = await merchantGet('/v1/payments?status=requires_attention');
    expect(mine.json().data.map((payment: { id: string }) => payment.id)).toEqual([id]);
    expect((await merchantGet('/v1/admin/payments?status=requires_attention')).statusCode).toBe(403);
    const otherStatus = await admin('GET', '/v1/admin/payments?status=succeeded');
    expect(otherStatus.statusCode).toBe(400);

    // The provider answers again; the operator asks for a lookup: the payment goes on from it.
    const looked = await admin('POST', `/v1/admin/payments/${id}/lookup`);
    expect(looked.statusCode).toBe(202);
    expect(looked.json()).toMatchObject({ object: 'admin_payment', payment: { id, status: 'requires_attention' } });
    await expect.poll(() => statusOf(api, id), poll).toBe('succeeded');
    expect(await api.get(id)).toMatchObject({ status: 'succeeded', amount_captured: 10_000, fee: 320 });
    expect(await simCharges(id)).toMatchObject([{ provider: 'stripe', status: 'captured', amount_captured: 10_000 }]);
    const ledger = await api.ledger(id);
    expect(ledger.map((transaction) => transaction.kind)).toEqual(['payment_capture']);
    expect(legs(ledger[0])).toEqual(captureLegs(merchantId));
    expect(await recordedTypes(id)).toEqual([
      'payment.created',
      'payment.outcome_unknown',
      'payment.attention_required',
      'payment.succeeded',
    ]);
    const after = await admin('GET', '/v1/admin/payments?status=requires_attention&limit=100');
    expect(after.json().data.map((item: { payment: { id: string } }) => item.payment.id)).not.toContain(id);
    // Only a payment that requires attention is looked up on request.
    const refused = await admin('POST', `/v1/admin/payments/${id}/lookup`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'payment_unexpected_state' });
    expect((await admin('POST', '/v1/admin/payments/pay_missing/lookup')).statusCode).toBe(404);
  });

  it('refund: the refund stays pending and the payment requires attention until the provider tells', async () => {
    const { api, apiKey } = await newClient();
    const created = await api.create({ amount: 10_000, currency: 'USD', source: card('tok_visa', 'stripe') });
    const id: string = created.json().id;
    await timeOut('stripe', 'refund', true);
    await timeOut('stripe', 'lookup', false, outcomeLookupScheduleMs.length);
    const refund = await api.act(id, 'refunds', { amount: 2_500 }, { 'idempotency-key': `${id}-refund` });
    // The refund waits for the provider's answer past PAYMENT_WAIT_MS: 202, pending.
    expect(refund.statusCode).toBe(202);
    expect(refund.json()).toMatchObject({ object: 'refund', amount: 2_500, status: 'pending' });
    const refundId: string = refund.json().id;
    await expect(
      stack.app.inject({ method: 'GET', url: `/v1/refunds/${refundId}`, headers: bearer(apiKey) }),
    ).resolves.toMatchObject({ statusCode: 200 });
    await expect.poll(() => statusOf(api, id), poll).toBe('requires_attention');
    expect(await api.get(id)).toMatchObject({
      status: 'requires_attention',
      amount_refunded: 0,
      refunds: [{ id: refundId, amount: 2_500, status: 'pending' }],
    });
    expect(await api.eventTypes(id)).toEqual(['payment.created', 'payment.succeeded', 'payment.attention_required']);
    expect((await api.timeline(id))[2]?.data).toEqual({ step: 'refund', refund_id: refundId });
    // No other refund while one is in doubt.
    const second = await api.act(id, 'refunds', { amount: 100 });
    expect(second.statusCode).toBe(409);
    expect(await simCharges(id)).toMatchObject([{ amount_refunded: 2_500, refunds: [{ amount: 2_500 }] }]);
    expect((await api.ledger(id)).map((transaction) => transaction.kind)).toEqual(['payment_capture']);

    expect((await admin('POST', `/v1/admin/payments/${id}/lookup`)).statusCode).toBe(202);
    await expect.poll(() => statusOf(api, id), poll).toBe('succeeded');
    expect(await api.get(id)).toMatchObject({
      status: 'succeeded',
      amount_refunded: 2_500,
      refunds: [{ id: refundId, amount: 2_500, status: 'succeeded' }],
    });
    expect(await simCharges(id)).toMatchObject([{ amount_refunded: 2_500, refunds: [{ amount: 2_500 }] }]);
    expect((await api.ledger(id)).map((transaction) => transaction.kind)).toEqual(['payment_capture', 'refund']);
    expect(await api.eventTypes(id)).toEqual([
      'payment.created',
      'payment.succeeded',
      'payment.attention_required',
      'refund.succeeded',
    ]);
  });
});
