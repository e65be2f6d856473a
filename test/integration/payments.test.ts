import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { startStack, bearer, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import { merchantAccountId, systemAccountId } from '../../src/ledger/ledger.ts';
import { foldedAndCurrent } from '../support/payment-history.ts';

let stack: Stack;
let merchant: { id: string; apiKey: string };
let api: ReturnType<typeof paymentsClient>;

beforeAll(async () => {
  stack = await startStack('payments', {
    rateLimitPerSecond: 10_000,
    settlementDelayMs: 300,
    authorizationExpiryMs: 60_000,
    reviewTimeoutMs: 60_000,
    riskReviewAboveMinor: { USD: 50_000n },
    riskBlockAboveMinor: { USD: 10_000_000n },
    riskMaxPaymentsPerWindow: 1_000,
  });
  merchant = await stack.merchant();
  api = paymentsClient(stack, merchant);
});
afterAll(async () => {
  // Every payment this suite made, folded from its events, is its read model (GET ?at= with no end).
  const histories = await foldedAndCurrent(stack.prisma, stack.merchantIds);
  expect(histories.length).toBeGreaterThan(20);
  for (const { id, folded, current } of histories) expect(folded, id).toEqual(current);
  const report = await stack.app.inject({
    method: 'GET',
    url: '/v1/ledger/integrity',
    headers: bearer(stack.adminApiKey),
  });
  expect(report.json()).toMatchObject({ healthy: true, discrepancies: [] });
  await stack?.close();
});

describe('card payments', () => {
  it('captures automatically: fee 2.9 % + 30, ledger balanced, one charge at the provider', async () => {
    const before = await api.simStats();
    const response = await api.create({ amount: 10_000, currency: 'USD', source: card(), customer: 'cus_auto' });
    expect(response.statusCode).toBe(201);
    const payment = response.json();
    expect(payment).toMatchObject({
      object: 'payment',
      status: 'succeeded',
      amount: 10_000,
      amount_captured: 10_000,
      amount_capturable: 0,
      amount_refunded: 0,
      refunded: false,
      fee: 320,
      net_amount: 9_680,
      capture_method: 'automatic',
      customer: 'cus_auto',
      source: { type: 'card', brand: 'visa', last4: '4242', provider: 'stripe' },
      failure_code: null,
    });
    expect(payment.id).toMatch(/^pay_/);
    expect(JSON.stringify(payment)).not.toContain('tok_visa');
    expect(await api.eventTypes(payment.id)).toEqual(['payment.created', 'payment.succeeded']);
    expect((await api.simStats()).stripe.charges - before.stripe.charges).toBe(1);

    const [capture] = await api.ledger(payment.id);
    expect(capture?.kind).toBe('payment_capture');
    expect(capture?.entries.map((entry) => [entry.account_id, entry.amount]).sort()).toEqual(
      [
        [systemAccountId('provider_clearing', 'USD'), -10_000],
        [merchantAccountId('merchant_pending', merchant.id, 'USD'), 9_680],
        [systemAccountId('platform_fees', 'USD'), 320],
      ].sort(),
    );
  });

  it("shows balance_after only for the merchant's own accounts, never the platform's totals", async () => {
    const merchant = await stack.merchant();
    const api = paymentsClient(stack, merchant);
    const payment = (await api.create({ amount: 10_000, currency: 'USD', source: card() })).json();
    const response = await stack.app.inject({
      method: 'GET',
      url: `/v1/payments/${payment.id}/ledger`,
      headers: bearer(merchant.apiKey),
    });
    expect(response.statusCode).toBe(200);
    const entries = response.json().data[0].entries as {
      account_id: string;
      amount: number;
      balance_after: number | null;
    }[];
    expect(entries).toHaveLength(3);
    for (const entry of entries) {
      if (entry.account_id.startsWith('acct_sys_')) expect(entry.balance_after).toBeNull();
      else
        expect(entry).toMatchObject({
          account_id: `acct_pending_${merchant.id}_usd`,
          amount: 9_680,
          balance_after: 9_680,
        });
    }
  });

  it('authorizes, then captures part of a manual payment; a second capture is refused', async () => {
    const created = await api.create({ amount: 10_000, currency: 'USD', source: card(), capture_method: 'manual' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ status: 'requires_capture', amount_capturable: 10_000, amount_captured: 0 });
    const id = created.json().id;

    const tooMuch = await api.act(id, 'capture', { amount: 10_001 });
    expect(tooMuch.statusCode).toBe(400);
    expect(tooMuch.json().error).toMatchObject({ code: 'amount_too_large', param: 'amount' });

    const captured = await api.act(id, 'capture', { amount: 6_000 });
    expect(captured.statusCode).toBe(200);
    expect(captured.json()).toMatchObject({
      status: 'succeeded',
      amount_captured: 6_000,
      amount_capturable: 0,
      fee: 204,
      net_amount: 5_796,
    });
    const again = await api.act(id, 'capture', {});
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ type: 'invalid_request_error', code: 'payment_unexpected_state' });
  });

  it('refunds in parts up to the captured amount and refuses more; the fee comes back in full', async () => {
    const payment = (await api.create({ amount: 10_000, currency: 'USD', source: card() })).json();
    const first = await api.act(payment.id, 'refunds', { amount: 2_500, reason: 'requested_by_customer' });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      object: 'refund',
      payment_id: payment.id,
      amount: 2_500,
      status: 'succeeded',
    });
    expect(first.json().id).toMatch(/^re_/);
    expect((await api.act(payment.id, 'refunds', { amount: 7_000 })).statusCode).toBe(201);

    const over = await api.act(payment.id, 'refunds', { amount: 501 });
    expect(over.statusCode).toBe(400);
    expect(over.json().error).toMatchObject({ code: 'amount_too_large', param: 'amount' });

    const last = await api.act(payment.id, 'refunds', {});
    expect(last.json()).toMatchObject({ amount: 500, status: 'succeeded' });
    const after = await api.get(payment.id);
    expect(after).toMatchObject({ status: 'succeeded', amount_refunded: 10_000, refunded: true });
    expect(after.refunds.map((refund: { amount: number }) => refund.amount)).toEqual([2_500, 7_000, 500]);

    const full = await api.act(payment.id, 'refunds', {});
    expect(full.statusCode).toBe(409);

    // Net effect of capture and refunds on each account: nothing left anywhere.
    const net = new Map<string, number>();
    for (const transaction of await api.ledger(payment.id)) {
      for (const entry of transaction.entries)
        net.set(entry.account_id, (net.get(entry.account_id) ?? 0) + entry.amount);
    }
    expect([...net.values()].every((amount) => amount === 0)).toBe(true);
  });

  it('voids a manual authorization on cancel', async () => {
    const before = await api.simStats();
    const id = (await api.create({ amount: 1_500, currency: 'USD', source: card(), capture_method: 'manual' })).json()
      .id;
    // As many HTTP clients send it: a JSON content type and no body at all, which means {}.
    const canceled = await stack.app.inject({
      method: 'POST',
      url: `/v1/payments/${id}/cancel`,
      headers: { ...bearer(merchant.apiKey), 'content-type': 'application/json' },
      payload: '',
    });
    expect(canceled.statusCode).toBe(200);
    expect(canceled.json()).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'requested',
      amount_capturable: 0,
    });
    expect((await api.simStats()).stripe.voids - before.stripe.voids).toBe(1);
    expect(await api.ledger(id)).toEqual([]);
    // A canceled payment's workflow ends (in a workflow task of its own, just after the answer).
    await stack.temporal.workflow.getHandle(id).result();
    const again = await api.act(id, 'cancel');
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toEqual({
      type: 'invalid_request_error',
      code: 'payment_unexpected_state',
      message: 'This payment no longer accepts changes; its status is canceled.',
    });
  });

  it.each([
    ['tok_chargeDeclined', 'card_declined'],
    ['tok_insufficientFunds', 'insufficient_funds'],
  ])('records a decline with %s as a failed payment (%s)', async (token, code) => {
    const response = await api.create({ amount: 2_000, currency: 'USD', source: card(token) });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ status: 'failed', failure_code: code, amount_captured: 0, fee: null });
    expect(response.json().failure_message).toEqual(expect.any(String));
    expect(await api.ledger(response.json().id)).toEqual([]);
  });

  it('stops tok_riskHigh with the risk rules before any charge', async () => {
    const before = await api.simStats();
    const response = await api.create({ amount: 2_000, currency: 'USD', source: card('tok_riskHigh') });
    expect(response.json()).toMatchObject({ status: 'failed', failure_code: 'payment_blocked' });
    const after = await api.simStats();
    expect(after.stripe.requests + after.paypal.requests).toBe(before.stripe.requests + before.paypal.requests);
  });

  it('succeeds after transient provider errors with exactly one charge', async () => {
    const before = await api.simStats();
    const response = await api.create({ amount: 3_000, currency: 'USD', source: card('tok_processingError') });
    expect(response.json()).toMatchObject({ status: 'succeeded', amount_captured: 3_000 });
    const after = await api.simStats();
    expect(after.stripe.charges - before.stripe.charges).toBe(1);
    expect(after.stripe.requests - before.stripe.requests).toBe(3);
  });
});

describe('review', () => {
  it('holds large payments for review; approve captures, reject cancels', async () => {
    const approved = await api.create({ amount: 60_000, currency: 'USD', source: card() });
    expect(approved.statusCode).toBe(201);
    expect(approved.json()).toMatchObject({ status: 'requires_review', amount_capturable: 0 });
    const decision = await api.act(approved.json().id, 'approve');
    expect(decision.statusCode).toBe(200);
    expect(decision.json()).toMatchObject({ status: 'succeeded', amount_captured: 60_000 });

    const rejected = await api.create({ amount: 60_000, currency: 'USD', source: card() });
    const rejection = await api.act(rejected.json().id, 'reject');
    expect(rejection.json()).toMatchObject({ status: 'canceled', cancellation_reason: 'review_rejected' });
    expect((await api.act(rejected.json().id, 'approve')).statusCode).toBe(409);
  });
});

describe('wallet payments', () => {
  it('pays from a customer account: hold, capture, ledger', async () => {
    const wallet = await api.openAccount();
    await api.deposit(wallet, 5_000);
    const manual = await api.create({
      amount: 3_000,
      currency: 'USD',
      source: { type: 'wallet', account_id: wallet },
      capture_method: 'manual',
    });
    expect(manual.json()).toMatchObject({ status: 'requires_capture', source: { type: 'wallet', account_id: wallet } });
    expect(await api.account(wallet)).toMatchObject({ balance: 5_000, held: 3_000, available: 2_000 });

    const captured = await api.act(manual.json().id, 'capture', { amount: 1_000 });
    expect(captured.json()).toMatchObject({ status: 'succeeded', amount_captured: 1_000, fee: 59 });
    expect(await api.account(wallet)).toMatchObject({ balance: 4_000, held: 0, available: 4_000 });
  });

  it('fails with insufficient_funds when the wallet cannot cover it', async () => {
    const wallet = await api.openAccount();
    await api.deposit(wallet, 100);
    const response = await api.create({ amount: 101, currency: 'USD', source: { type: 'wallet', account_id: wallet } });
    expect(response.json()).toMatchObject({ status: 'failed', failure_code: 'insufficient_funds' });
    expect(await api.account(wallet)).toMatchObject({ balance: 100, held: 0 });
  });

  it('lets exactly 60 of 100 concurrent payments succeed from a wallet holding 60', async () => {
    const wallet = await api.openAccount();
    await api.deposit(wallet, 60);
    const responses = await Promise.all(
      Array.from({ length: 100 }, () =>
        api.create({ amount: 1, currency: 'USD', source: { type: 'wallet', account_id: wallet } }),
      ),
    );
    // Under the whole suite's load some of them answer 202 once PAYMENT_WAIT_MS is up; those
    // are read back until they settle.
    const settled = async (response: LightMyRequestResponse): Promise<string> => {
      expect([201, 202]).toContain(response.statusCode);
      const { id, status } = response.json<{ id: string; status: string }>();
      if (response.statusCode === 201) return status;
      await expect.poll(async () => (await api.get(id)).status, { timeout: 30_000 }).not.toBe('processing');
      return (await api.get(id)).status;
    };
    const statuses = await Promise.all(responses.map(settled));
    expect(statuses.filter((status) => status === 'succeeded')).toHaveLength(60);
    expect(statuses.filter((status) => status === 'failed')).toHaveLength(40);
    expect(await api.account(wallet)).toMatchObject({ balance: 0, held: 0 });
  }, 60_000);
});

describe('idempotency of payments', () => {
  it('replays, refuses other parameters, and answers 409 while the first request runs', async () => {
    const payload = { amount: 1_200, currency: 'USD', source: card() };
    const first = await api.create(payload, 'pay-replay');
    const replay = await api.create(payload, 'pay-replay');
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(first.json());
    const mismatch = await api.create({ ...payload, amount: 1_201 }, 'pay-replay');
    expect(mismatch.statusCode).toBe(422);
    expect(mismatch.json().error.code).toBe('idempotency_key_reused');

    const slow = api.create({ amount: 1_300, currency: 'USD', source: card('tok_processingError') }, 'pay-slow');
    await expect
      .poll(() => stack.prisma.idempotencyKey.count({ where: { merchantId: merchant.id, key: 'pay-slow' } }))
      .toBe(1);
    const meanwhile = await api.create(
      { amount: 1_300, currency: 'USD', source: card('tok_processingError') },
      'pay-slow',
    );
    expect(meanwhile.statusCode).toBe(409);
    expect(meanwhile.json().error.code).toBe('idempotency_request_in_progress');
    expect((await slow).json()).toMatchObject({ status: 'succeeded' });
  });
});

describe('listing and search', () => {
  it('lists payments newest first with filters and a cursor', async () => {
    const other = await stack.merchant();
    const client = paymentsClient(stack, other);
    const ids: string[] = [];
    for (const customer of ['cus_a', 'cus_b', 'cus_a']) {
      ids.push((await client.create({ amount: 700, currency: 'USD', source: card(), customer })).json().id);
    }
    const list = (query: string) =>
      stack.app
        .inject({ method: 'GET', url: `/v1/payments?${query}`, headers: bearer(other.apiKey) })
        .then((r) => r.json());
    const page1 = await list('limit=2');
    expect(page1.data.map((p: { id: string }) => p.id)).toEqual([ids[2], ids[1]]);
    expect(page1.has_more).toBe(true);
    const page2 = await list(`limit=2&starting_after=${ids[1]}`);
    expect(page2).toMatchObject({ has_more: false, data: [{ id: ids[0] }] });
    expect((await list('customer=cus_a')).data.map((p: { id: string }) => p.id)).toEqual([ids[2], ids[0]]);
    expect((await list('status=failed')).data).toEqual([]);
    // An unknown status is refused, not answered with an empty list.
    const bogus = await stack.app.inject({
      method: 'GET',
      url: '/v1/payments?status=bogus',
      headers: bearer(other.apiKey),
    });
    expect(bogus.statusCode).toBe(400);
    expect(bogus.json().error).toMatchObject({ type: 'invalid_request_error', code: 'parameter_invalid' });
  });

  it('keeps PaymentStatus and MerchantId search attributes current', async () => {
    const id = (await api.create({ amount: 900, currency: 'USD', source: card(), capture_method: 'manual' })).json().id;
    const find = async (status: string) => {
      const ids: string[] = [];
      const query = `PaymentStatus = '${status}' AND MerchantId = '${merchant.id}'`;
      for await (const execution of stack.temporal.workflow.list({ query })) ids.push(execution.workflowId);
      return ids;
    };
    await expect.poll(() => find('requires_capture'), { timeout: 10_000 }).toContain(id);
    await api.act(id, 'cancel');
    await expect.poll(() => find('canceled'), { timeout: 10_000 }).toContain(id);
  });
});

describe('a payment at any past moment', () => {
  const at = (id: string, instant: string, key = merchant.apiKey) =>
    stack.app.inject({
      method: 'GET',
      url: `/v1/payments/${id}?at=${encodeURIComponent(instant)}`,
      headers: bearer(key),
    });
  const earlier = (instant: string) => new Date(Date.parse(instant) - 1).toISOString();

  it('answers the payment as it was at each step, in its public shape', async () => {
    const created = await api.create({ amount: 10_000, currency: 'USD', source: card(), capture_method: 'manual' });
    const id = created.json().id as string;
    expect((await api.act(id, 'capture', { amount: 8_000 })).statusCode).toBe(200);
    const refund = await api.act(
      id,
      'refunds',
      { amount: 3_000, reason: 'duplicate' },
      { 'idempotency-key': `${id}-r` },
    );
    expect(refund.statusCode).toBe(201);
    const current = await api.get(id);
    const steps = await api.timeline(id);
    expect(steps.map((step) => step.type)).toEqual([
      'payment.created',
      'payment.requires_capture',
      'payment.succeeded',
      'refund.succeeded',
    ]);
    const [opened, authorized, captured, refunded] = steps.map((step) => step.created_at) as [
      string,
      string,
      string,
      string,
    ];

    const before = await at(id, earlier(current.created_at));
    expect(before.statusCode).toBe(404);
    expect(before.json().error).toMatchObject({ code: 'resource_missing', param: 'at' });

    expect((await at(id, opened)).json()).toEqual({
      ...current,
      status: 'processing',
      amount_captured: 0,
      amount_refunded: 0,
      fee: null,
      net_amount: null,
      source: { type: 'card', brand: null, last4: null, provider: null },
      refunds: [],
    });
    expect((await at(id, earlier(captured))).json()).toEqual({
      ...current,
      status: 'requires_capture',
      amount_capturable: 10_000,
      amount_captured: 0,
      amount_refunded: 0,
      fee: null,
      net_amount: null,
      refunds: [],
    });
    expect(Date.parse(authorized)).toBeLessThan(Date.parse(captured));
    expect((await at(id, captured)).json()).toEqual({ ...current, amount_refunded: 0, refunds: [] });
    expect((await at(id, refunded)).json()).toEqual(current);
    expect((await at(id, new Date(Date.now() + 60_000).toISOString())).json()).toEqual(current);
    expect(current).toMatchObject({
      status: 'succeeded',
      amount_captured: 8_000,
      amount_refunded: 3_000,
      refunds: [expect.objectContaining({ amount: 3_000, reason: 'duplicate' })],
    });
  });

  it('refuses an instant it cannot read, and another merchant’s payment, in the error shape', async () => {
    const id = (await api.create({ amount: 1_000, currency: 'USD', source: card() })).json().id as string;
    for (const instant of ['yesterday', '2026-12-31T23:59:60Z', '2026-13-01T00:00:00Z', '']) {
      const response = await at(id, instant);
      expect(response.statusCode, instant).toBe(400);
      expect(response.json().error).toMatchObject({
        type: 'invalid_request_error',
        code: 'parameter_invalid',
        param: 'at',
      });
    }
    const other = await stack.merchant();
    const foreign = await at(id, new Date().toISOString(), other.apiKey);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error).toMatchObject({ code: 'resource_missing', param: 'id' });
  });
});

describe('after the refund window', () => {
  let short: Stack;
  beforeAll(async () => {
    short = await startStack('payments-window', { settlementDelayMs: 100, refundWindowMs: 1_000 });
  });
  afterAll(async () => short?.close());

  it('refuses changes once the payment workflow has closed: 409 payment_unexpected_state', async () => {
    const client = paymentsClient(short, await short.merchant());
    const payment = (await client.create({ amount: 1_000, currency: 'USD', source: card() })).json();
    expect(payment.status).toBe('succeeded');
    await expect
      .poll(async () => (await short.temporal.workflow.getHandle(payment.id).describe()).status.name, {
        timeout: 15_000,
      })
      .toBe('COMPLETED');
    const late = await client.act(payment.id, 'refunds', { amount: 100 });
    expect(late.statusCode).toBe(409);
    expect(late.json().error).toMatchObject({ type: 'invalid_request_error', code: 'payment_unexpected_state' });
    expect((await client.get(payment.id)).amount_refunded).toBe(0);
  });
});
