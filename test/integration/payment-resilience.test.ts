import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { startStack, bearer, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import {
  spawnWorkerProcess,
  startProviderProxy,
  type ProviderProxy,
  type WorkerProcess,
} from '../support/worker-process.ts';
import { merchantAccountId, systemAccountId } from '../../src/ledger/ledger.ts';
import { buildApp } from '../../src/api/build.ts';
import { loadConfig, requireKeyring, type Config } from '../../src/config.ts';
import { createProviderGateway } from '../../src/providers/index.ts';
import { createWorker } from '../../src/worker.ts';

// Timers, provider faults and a crashed worker, against real Temporal, PostgreSQL and the
// provider simulator. Each describe block has its own stack (own simulator, own task queue)
// because the durations under test are per-stack settings.

type Api = ReturnType<typeof paymentsClient>;
type SimStats = Awaited<ReturnType<Api['simStats']>>;

/** Settings every stack here shares: no rate limit or velocity rule gets in the way. */
const common: Partial<Config> = {
  rateLimitPerSecond: 10_000,
  riskMaxPaymentsPerWindow: 1_000_000,
  riskBlockAboveMinor: { USD: 10_000_000n },
};

const poll = { timeout: 15_000, interval: 100 };

async function newClient(stack: Stack): Promise<{ api: Api; merchantId: string }> {
  const merchant = await stack.merchant();
  return { api: paymentsClient(stack, merchant), merchantId: merchant.id };
}

const statusOf = async (api: Api, id: string): Promise<string> => (await api.get(id)).status;

/** The payment once it left `processing`: a 201 as is, a 202 polled until it settles. */
async function outcome(api: Api, response: LightMyRequestResponse) {
  expect([201, 202]).toContain(response.statusCode);
  const id: string = response.json().id;
  if (response.statusCode === 202) await expect.poll(() => statusOf(api, id), poll).not.toBe('processing');
  return api.get(id);
}

/** Signed entries of a ledger transaction as sorted [account, amount] pairs. */
const legs = (transaction: { entries: { account_id: string; amount: number }[] } | undefined) =>
  (transaction?.entries ?? []).map((entry) => [entry.account_id, entry.amount]).sort();

/** The difference of two simulator snapshots, per provider and counter. */
function statsDelta(after: SimStats, before: SimStats) {
  const delta = (provider: 'stripe' | 'paypal') =>
    Object.fromEntries(
      Object.entries(after[provider])
        .filter(([, value]) => typeof value === 'number')
        .map(([key, value]) => [
          key,
          (value as number) - ((before[provider] as Record<string, unknown>)[key] as number),
        ]),
    );
  return { stripe: delta('stripe'), paypal: delta('paypal') };
}

async function simCharges(stack: Stack, paymentId: string) {
  const response = await stack.sim.inject({ method: 'GET', url: `/admin/charges?payment_id=${paymentId}` });
  expect(response.statusCode).toBe(200);
  return response.json<{
    data: { provider: string; status: string; amount: number; amount_captured: number; amount_refunded: number }[];
  }>().data;
}

/** An account's cached balance; 0 for a merchant balance account not made yet (made on first use). */
async function balanceOf(stack: Stack, accountId: string): Promise<bigint> {
  return (await stack.prisma.account.findUnique({ where: { id: accountId } }))?.balance ?? 0n;
}

async function expectHealthyLedger(stack: Stack): Promise<void> {
  const report = await stack.app.inject({
    method: 'GET',
    url: '/v1/ledger/integrity',
    headers: bearer(stack.adminApiKey),
  });
  expect(report.statusCode).toBe(200);
  expect(report.json()).toMatchObject({ object: 'ledger_integrity', healthy: true, discrepancies: [] });
}

describe('timers: authorization expiry, review timeout, settlement', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('resilience-timers', {
      ...common,
      authorizationExpiryMs: 1_500,
      reviewTimeoutMs: 1_500,
      settlementDelayMs: 300,
      riskReviewAboveMinor: { USD: 50_000n },
    });
  });
  afterAll(async () => {
    if (stack) await expectHealthyLedger(stack);
    await stack?.close();
  });

  it('voids an expired manual card authorization: canceled, authorization_expired, one void, no ledger', async () => {
    const { api } = await newClient(stack);
    const before = await api.simStats();
    const created = await api.create({ amount: 2_000, currency: 'USD', source: card(), capture_method: 'manual' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ status: 'requires_capture', amount_capturable: 2_000, amount_captured: 0 });
    const id: string = created.json().id;

    await expect.poll(() => statusOf(api, id), poll).toBe('canceled');
    const payment = await api.get(id);
    expect(payment).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'authorization_expired',
      amount: 2_000,
      amount_capturable: 0,
      amount_captured: 0,
      amount_refunded: 0,
      fee: null,
      net_amount: null,
      failure_code: null,
      settled: false,
      source: { type: 'card', provider: 'stripe', brand: 'visa', last4: '4242' },
    });
    expect(await api.eventTypes(payment.id)).toEqual([
      'payment.created',
      'payment.requires_capture',
      'payment.canceled',
    ]);
    // The expiry timer starts once requires_capture is recorded: it cannot fire earlier.
    const [, authorized, canceled] = await api.timeline(id);
    expect(Date.parse(canceled?.created_at ?? '') - Date.parse(authorized?.created_at ?? '')).toBeGreaterThanOrEqual(
      1_500,
    );

    expect(statsDelta(await api.simStats(), before)).toMatchObject({
      stripe: { charges: 1, captures: 0, voids: 1, refunds: 0 },
      paypal: { requests: 0 },
    });
    expect(await simCharges(stack, id)).toMatchObject([
      { provider: 'stripe', status: 'voided', amount: 2_000, amount_captured: 0 },
    ]);
    expect(await api.ledger(id)).toEqual([]);

    const late = await api.act(id, 'capture', {});
    expect(late.statusCode).toBe(409);
    expect(late.json().error).toMatchObject({ code: 'payment_unexpected_state' });
  });

  it('expires a manual wallet hold: status expired, the account held back to 0', async () => {
    const { api } = await newClient(stack);
    const wallet = await api.openAccount();
    await api.deposit(wallet, 5_000);
    const before = await api.simStats();
    const created = await api.create({
      amount: 3_000,
      currency: 'USD',
      source: { type: 'wallet', account_id: wallet },
      capture_method: 'manual',
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ status: 'requires_capture', amount_capturable: 3_000 });
    const id: string = created.json().id;
    expect(await api.account(wallet)).toMatchObject({ balance: 5_000, held: 3_000, available: 2_000 });
    expect(await stack.prisma.hold.findUniqueOrThrow({ where: { reference: id } })).toMatchObject({
      status: 'active',
      amount: 3_000n,
    });

    await expect.poll(() => statusOf(api, id), poll).toBe('canceled');
    const payment = await api.get(id);
    expect(payment).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'authorization_expired',
      amount_capturable: 0,
      amount_captured: 0,
      fee: null,
      source: { type: 'wallet', account_id: wallet },
    });
    expect(await api.eventTypes(payment.id)).toEqual([
      'payment.created',
      'payment.requires_capture',
      'payment.canceled',
    ]);
    expect(await stack.prisma.hold.findUniqueOrThrow({ where: { reference: id } })).toMatchObject({
      accountId: wallet,
      status: 'expired',
      amount: 3_000n,
      capturedAmount: null,
    });
    expect(await api.account(wallet)).toMatchObject({ balance: 5_000, held: 0, available: 5_000 });
    expect(await api.ledger(id)).toEqual([]);
    const stats = statsDelta(await api.simStats(), before);
    expect([stats.stripe.requests, stats.paypal.requests]).toEqual([0, 0]);
  });

  it('cancels a payment left in review past the timeout: review_timeout, nothing charged', async () => {
    const { api } = await newClient(stack);
    const before = await api.simStats();
    const created = await api.create({ amount: 60_000, currency: 'USD', source: card() });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ status: 'requires_review', amount_capturable: 0, amount_captured: 0 });
    const id: string = created.json().id;

    await expect.poll(() => statusOf(api, id), poll).toBe('canceled');
    const payment = await api.get(id);
    expect(payment).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'review_timeout',
      amount: 60_000,
      amount_capturable: 0,
      amount_captured: 0,
      fee: null,
      failure_code: null,
    });
    expect(await api.eventTypes(payment.id)).toEqual([
      'payment.created',
      'payment.requires_review',
      'payment.canceled',
    ]);
    expect((await api.timeline(id))[1]?.data).toEqual({ rule: 'amount_review' });
    const stats = statsDelta(await api.simStats(), before);
    expect([stats.stripe.requests, stats.paypal.requests]).toEqual([0, 0]);
    expect(await api.ledger(id)).toEqual([]);

    const late = await api.act(id, 'approve');
    expect(late.statusCode).toBe(409);
    expect(late.json().error).toMatchObject({ code: 'payment_unexpected_state' });
  });

  it('settles after the delay (pending → available), then refunds from available', async () => {
    const { api, merchantId } = await newClient(stack);
    const pending = merchantAccountId('merchant_pending', merchantId, 'USD');
    const available = merchantAccountId('merchant_available', merchantId, 'USD');
    const created = await api.create({ amount: 10_000, currency: 'USD', source: card() });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ status: 'succeeded', fee: 320, net_amount: 9_680 });
    const id: string = created.json().id;

    await expect.poll(async () => (await api.get(id)).settled, poll).toBe(true);
    expect(await api.eventTypes(id)).toEqual(['payment.created', 'payment.succeeded', 'payment.settled']);
    const [capture, settlement, ...rest] = await api.ledger(id);
    expect(rest).toEqual([]);
    expect(capture?.kind).toBe('payment_capture');
    expect(legs(capture)).toEqual(
      [
        [systemAccountId('provider_clearing', 'USD'), -10_000],
        [pending, 9_680],
        [systemAccountId('platform_fees', 'USD'), 320],
      ].sort(),
    );
    expect(settlement?.kind).toBe('settlement');
    expect(legs(settlement)).toEqual(
      [
        [pending, -9_680],
        [available, 9_680],
      ].sort(),
    );
    expect([await balanceOf(stack, pending), await balanceOf(stack, available)]).toEqual([0n, 9_680n]);

    // 4,000 of 10,000 refunded: the platform gives back 128 of its 320 fee, the merchant pays 3,872.
    const refund = await api.act(id, 'refunds', { amount: 4_000 });
    expect(refund.statusCode).toBe(201);
    expect(refund.json()).toMatchObject({ amount: 4_000, status: 'succeeded' });
    const [, , refundTransaction, ...none] = await api.ledger(id);
    expect(none).toEqual([]);
    expect(refundTransaction?.kind).toBe('refund');
    expect(legs(refundTransaction)).toEqual(
      [
        [available, -3_872],
        [systemAccountId('platform_fees', 'USD'), -128],
        [systemAccountId('provider_clearing', 'USD'), 4_000],
      ].sort(),
    );
    expect([await balanceOf(stack, pending), await balanceOf(stack, available)]).toEqual([0n, 5_808n]);
    expect(await api.get(id)).toMatchObject({ status: 'succeeded', settled: true, amount_refunded: 4_000 });
  });
});

describe('settlement after an early refund', () => {
  let stack: Stack;
  // Long enough for a refund to land before the settlement timer fires.
  const settlementDelayMs = 2_500;
  beforeAll(async () => {
    stack = await startStack('resilience-settlement', { ...common, settlementDelayMs });
  });
  afterAll(async () => {
    if (stack) await expectHealthyLedger(stack);
    await stack?.close();
  });

  it('refunds from pending before settlement; settlement moves only what remains', async () => {
    const { api, merchantId } = await newClient(stack);
    const pending = merchantAccountId('merchant_pending', merchantId, 'USD');
    const available = merchantAccountId('merchant_available', merchantId, 'USD');
    const created = await api.create({ amount: 10_000, currency: 'USD', source: card() });
    expect(created.json()).toMatchObject({ status: 'succeeded', settled: false, net_amount: 9_680 });
    const id: string = created.json().id;

    // 2,500 of 10,000: 80 of the fee comes back, the merchant pays 2,420 out of pending.
    const refund = await api.act(id, 'refunds', { amount: 2_500 });
    expect(refund.statusCode).toBe(201);
    expect(await api.get(id)).toMatchObject({ settled: false, amount_refunded: 2_500 });
    const [, refundTransaction] = await api.ledger(id);
    expect(refundTransaction?.kind).toBe('refund');
    expect(legs(refundTransaction)).toEqual(
      [
        [pending, -2_420],
        [systemAccountId('platform_fees', 'USD'), -80],
        [systemAccountId('provider_clearing', 'USD'), 2_500],
      ].sort(),
    );
    expect([await balanceOf(stack, pending), await balanceOf(stack, available)]).toEqual([7_260n, 0n]);

    await expect.poll(async () => (await api.get(id)).settled, poll).toBe(true);
    const transactions = await api.ledger(id);
    expect(transactions.map((transaction) => transaction.kind)).toEqual(['payment_capture', 'refund', 'settlement']);
    expect(legs(transactions[2])).toEqual(
      [
        [pending, -7_260],
        [available, 7_260],
      ].sort(),
    );
    expect([await balanceOf(stack, pending), await balanceOf(stack, available)]).toEqual([0n, 7_260n]);
    expect(await api.eventTypes(id)).toEqual([
      'payment.created',
      'payment.succeeded',
      'refund.succeeded',
      'payment.settled',
    ]);
  });

  it('settles a payment fully refunded before settlement without a settlement transaction', async () => {
    const { api, merchantId } = await newClient(stack);
    const pending = merchantAccountId('merchant_pending', merchantId, 'USD');
    const created = await api.create({ amount: 10_000, currency: 'USD', source: card() });
    const id: string = created.json().id;
    expect((await api.act(id, 'refunds', {})).statusCode).toBe(201);
    expect(await api.get(id)).toMatchObject({ settled: false, refunded: true });

    await expect.poll(async () => (await api.get(id)).settled, poll).toBe(true);
    expect((await api.ledger(id)).map((transaction) => transaction.kind)).toEqual(['payment_capture', 'refund']);
    expect(await balanceOf(stack, pending)).toBe(0n);
  });
});

describe('provider faults', () => {
  let stack: Stack;
  const providerTimeoutMs = 300;
  beforeAll(async () => {
    stack = await startStack(
      'resilience-faults',
      {
        ...common,
        providerTimeoutMs,
        // The circuit stays closed here, so every attempt of the retry policy reaches the
        // simulator and can be counted exactly.
        breakerVolumeThreshold: 1_000,
        breakerErrorThresholdPercentage: 100,
        breakerResetTimeoutMs: 1_000,
        // A charge whose answer never came is looked up three times within a second or two.
        outcomeLookupScheduleMs: [200, 400, 800],
      },
      { hangMs: 2_000 },
    );
  });
  afterAll(async () => {
    await stack?.sim.inject({ method: 'DELETE', url: '/admin/faults' });
    if (stack) await expectHealthyLedger(stack);
    await stack?.close();
  });

  it('routes around a stripe outage to paypal; an explicit stripe payment fails provider_unavailable', async () => {
    const { api } = await newClient(stack);
    const outage = await stack.sim.inject({
      method: 'POST',
      url: '/admin/faults',
      payload: { provider: 'stripe', outage_seconds: 30 },
    });
    expect(outage.statusCode).toBe(200);
    expect(outage.json().stripe.outage_until).toEqual(expect.any(String));
    try {
      let before = await api.simStats();
      const routed = await outcome(api, await api.create({ amount: 5_000, currency: 'USD', source: card() }));
      expect(routed).toMatchObject({
        status: 'succeeded',
        amount_captured: 5_000,
        fee: 175,
        source: { type: 'card', provider: 'paypal', brand: 'visa', last4: '4242' },
      });
      expect(statsDelta(await api.simStats(), before)).toMatchObject({
        stripe: { requests: 1, injected_faults: 1, charges: 0 },
        paypal: { requests: 1, charges: 1 },
      });
      expect(await simCharges(stack, routed.id)).toMatchObject([
        { provider: 'paypal', status: 'captured', amount: 5_000, amount_captured: 5_000 },
      ]);
      expect((await api.ledger(routed.id)).map((transaction) => transaction.kind)).toEqual(['payment_capture']);

      before = await api.simStats();
      const pinned = await outcome(
        api,
        await api.create({ amount: 5_000, currency: 'USD', source: card('tok_visa', 'stripe') }),
      );
      expect(pinned).toMatchObject({
        status: 'failed',
        failure_code: 'provider_unavailable',
        amount_captured: 0,
        amount_capturable: 0,
        fee: null,
        source: { type: 'card', provider: 'stripe' },
      });
      expect(pinned.failure_message).toBe(
        'No card processor could take the payment. Nothing was charged; try again later.',
      );
      expect(await api.eventTypes(pinned.id)).toEqual(['payment.created', 'payment.failed']);
      // No fallback for a pinned provider; the activity's four attempts all met the outage.
      expect(statsDelta(await api.simStats(), before)).toMatchObject({
        stripe: { requests: 4, injected_faults: 4, charges: 0 },
        paypal: { requests: 0 },
      });
      expect(await simCharges(stack, pinned.id)).toEqual([]);
      expect(await api.ledger(pinned.id)).toEqual([]);
    } finally {
      const cleared = await stack.sim.inject({ method: 'DELETE', url: '/admin/faults' });
      expect(cleared.json().stripe.outage_until).toBeNull();
    }

    const recovered = await outcome(
      api,
      await api.create({ amount: 5_000, currency: 'USD', source: card('tok_visa', 'stripe') }),
    );
    expect(recovered).toMatchObject({ status: 'succeeded', source: { provider: 'stripe' } });
  });

  it('fails a payment whose provider never answers (tok_timeout) with provider_unavailable, after lookups', async () => {
    const { api } = await newClient(stack);
    const before = await api.simStats();
    const started = Date.now();
    const payment = await outcome(
      api,
      await api.create({ amount: 4_000, currency: 'USD', source: card('tok_timeout') }),
    );
    expect(payment).toMatchObject({
      status: 'failed',
      failure_code: 'provider_unavailable',
      amount_captured: 0,
      fee: null,
      source: { type: 'card', provider: 'stripe' },
    });
    // Our own sentence: provider names, hosts and timeouts stay out of what merchants see.
    expect(payment.failure_message).toBe(
      'No card processor could take the payment. Nothing was charged; try again later.',
    );
    expect(await api.eventTypes(payment.id)).toEqual(['payment.created', 'payment.failed']);
    // A timeout may hide a charge, so there is no fallback to paypal (it could charge the
    // customer a second time): stripe is asked instead. Its three lookups find nothing; the
    // request and the two resends between lookups, with the same key, all time out.
    expect(statsDelta(await api.simStats(), before)).toMatchObject({
      stripe: { requests: 6, timeouts: 3, charges: 0 },
      paypal: { requests: 0, charges: 0 },
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await simCharges(stack, payment.id)).toEqual([]);
    expect(await api.ledger(payment.id)).toEqual([]);
  });
});

describe('fallback after a provider answer that never arrived', () => {
  // The stack's providers are reached through a proxy that can lose an answer: the provider
  // acts, the worker only sees its own deadline pass.
  let stack: Stack;
  let proxy: ProviderProxy;
  let simUrl = '';
  beforeAll(async () => {
    proxy = await startProviderProxy(() => simUrl);
    stack = await startStack('resilience-fallback', {
      ...common,
      providerSimUrl: proxy.url,
      providerTimeoutMs: 300,
      breakerVolumeThreshold: 1_000,
      outcomeLookupScheduleMs: [200, 400, 800],
    });
    simUrl = stack.simUrl;
  });
  afterAll(async () => {
    if (stack) await expectHealthyLedger(stack);
    await stack?.close();
    await proxy?.close();
  });

  it('charges the customer once when stripe charged but its answer was lost: found by lookup, no fallback', async () => {
    const { api } = await newClient(stack);
    const before = await api.simStats();
    proxy.loseAnswers((method, path) => method === 'POST' && path === '/stripe/v1/charges');
    const payment = await outcome(api, await api.create({ amount: 5_000, currency: 'USD', source: card() }));
    expect(proxy.lostAnswers()).toBe(1);
    expect(payment).toMatchObject({
      status: 'succeeded',
      amount_captured: 5_000,
      fee: 175,
      source: { type: 'card', provider: 'stripe' },
    });
    expect((await api.ledger(payment.id)).map((transaction) => transaction.kind)).toEqual(['payment_capture']);

    // The lost answer may hide a charge, so paypal was never asked to charge too; stripe was
    // asked what it did (a charge search, no resend) and the payment went on with its charge.
    // The customer pays 5,000 once, at the provider the payment names, with no hold anywhere.
    expect(await simCharges(stack, payment.id)).toMatchObject([
      { provider: 'stripe', status: 'captured', amount_captured: 5_000, amount_refunded: 0 },
    ]);
    expect(statsDelta(await api.simStats(), before)).toMatchObject({
      stripe: { requests: 2, charges: 1, replays: 0 },
      paypal: { requests: 0 },
    });
  });
});

describe('a worker killed mid-capture', () => {
  // startStack runs its own in-process worker, so this block drives a second API on a task
  // queue that only the child worker (and later its replacement) polls. The child reaches the
  // simulator through a proxy that can lose an answer.
  let stack: Stack;
  let app: FastifyInstance;
  let config: Config;
  let proxy: ProviderProxy;
  let child: WorkerProcess | undefined;
  let replacement: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    stack = await startStack('resilience-kill', common);
    proxy = await startProviderProxy(() => stack.simUrl);
    config = {
      ...loadConfig(),
      keyring: stack.config.keyring,
      ...common,
      taskQueue: `test-resilience-kill-child-${randomUUID()}`,
      adminApiKey: stack.adminApiKey,
      providerSimUrl: stack.simUrl,
      providerTimeoutMs: 1_000,
      // The captures sent before the kill wait for the replacement worker to finish them,
      // instead of answering 202 after the usual wait.
      paymentWaitMs: 60_000,
      authorizationExpiryMs: 600_000,
      // Not within the test: the ledger then holds the capture alone.
      settlementDelayMs: 3_600_000,
    };
    app = await buildApp(
      { prisma: stack.prisma, temporal: stack.temporal, config },
      { logger: false, bodyLimitBytes: config.bodyLimitBytes, requestTimeoutMs: config.requestTimeoutMs },
    );
  });
  afterAll(async () => {
    await child?.kill();
    await replacement?.();
    await app?.close();
    await proxy?.close();
    await stack?.sim.inject({ method: 'DELETE', url: '/admin/faults' });
    if (stack) await expectHealthyLedger(stack);
    await stack?.close();
  });

  it('resumes both captures on a new worker: one capture at each provider, one in each ledger', async () => {
    child = await spawnWorkerProcess({
      temporalAddress: inject('temporalAddress'),
      databaseUrl: inject('databaseUrl'),
      taskQueue: config.taskQueue,
      providerSimUrl: proxy.url,
      workflowBundlePath: inject('workflowBundlePath'),
      encryptionKeys: inject('encryptionKeys'),
      // Longer than the latency below: the capture calls are still waiting when the kill lands.
      providerTimeoutMs: 20_000,
    });
    const merchant = await stack.merchant();
    const api = paymentsClient({ ...stack, app }, merchant);

    // Two authorizations: one at paypal, one at stripe.
    const authorize = async (provider: 'stripe' | 'paypal') => {
      const created = await api.create({
        amount: 10_000,
        currency: 'USD',
        source: card('tok_visa', provider),
        capture_method: 'manual',
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ status: 'requires_capture', source: { provider } });
      return created.json().id as string;
    };
    const inFlight = await authorize('paypal');
    const answered = await authorize('stripe');
    const before = await api.simStats();

    // paypal: every request waits 15 s at the provider, so the captureCard activity is in flight
    // (its first call, reading the authorization) when the kill lands, and nothing is captured.
    // stripe: the capture runs at the provider, but its answer never reaches the worker.
    const slow = await stack.sim.inject({
      method: 'POST',
      url: '/admin/faults',
      payload: { provider: 'paypal', latency_ms: 15_000 },
    });
    expect(slow.statusCode).toBe(200);
    proxy.loseAnswers((method, path) => method === 'POST' && /^\/stripe\/v1\/charges\/[^/]+\/capture$/.test(path));
    const captures = [api.act(inFlight, 'capture', {}), api.act(answered, 'capture', {})];
    await expect
      .poll(async () => {
        const stats = statsDelta(await api.simStats(), before);
        return {
          paypalRequests: stats.paypal.requests,
          stripeCaptures: stats.stripe.captures,
          lost: proxy.lostAnswers(),
        };
      }, poll)
      .toEqual({ paypalRequests: 1, stripeCaptures: 1, lost: 1 });

    await child.kill();
    expect(child.exited()).toBe(true);
    await stack.sim.inject({ method: 'DELETE', url: '/admin/faults' });
    // The crash window: stripe holds the money, our books do not know yet.
    expect(await simCharges(stack, answered)).toMatchObject([{ provider: 'stripe', status: 'captured' }]);
    expect(await simCharges(stack, inFlight)).toMatchObject([{ provider: 'paypal', status: 'authorized' }]);
    expect([await statusOf(api, inFlight), await statusOf(api, answered)]).toEqual([
      'requires_capture',
      'requires_capture',
    ]);

    const killedAt = Date.now();
    const providers = createProviderGateway(config);
    const { worker, connection } = await createWorker({
      address: inject('temporalAddress'),
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      prisma: stack.prisma,
      providers,
      temporal: stack.temporal,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      keyring: requireKeyring(config),
    });
    const run = worker.run();
    replacement = async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await run;
      await connection.close();
      providers.shutdown();
    };

    // The API calls made before the crash answer once the new worker has finished the captures.
    for (const captured of await Promise.all(captures)) {
      expect(captured.statusCode).toBe(200);
      expect(captured.json()).toMatchObject({
        status: 'succeeded',
        amount_captured: 10_000,
        amount_capturable: 0,
        fee: 320,
        net_amount: 9_680,
      });
    }
    process.stderr.write(`[resilience] captures resumed ${Date.now() - killedAt} ms after the worker was killed\n`);

    // The retried stripe capture reused its idempotency key: stripe answered from its store.
    const stats = statsDelta(await api.simStats(), before);
    expect(stats.stripe).toMatchObject({ charges: 0, captures: 1, replays: 1, voids: 0, refunds: 0 });
    expect(stats.paypal).toMatchObject({ charges: 0, captures: 1, voids: 0, refunds: 0 });
    for (const [id, provider] of [
      [inFlight, 'paypal'],
      [answered, 'stripe'],
    ] as const) {
      expect(await simCharges(stack, id)).toMatchObject([
        { provider, status: 'captured', amount: 10_000, amount_captured: 10_000 },
      ]);
      const payment = await api.get(id);
      expect(payment).toMatchObject({ status: 'succeeded', amount_captured: 10_000, settled: false });
      expect(await api.eventTypes(payment.id)).toEqual([
        'payment.created',
        'payment.requires_capture',
        'payment.succeeded',
      ]);
      const transactions = await api.ledger(id);
      expect(transactions.map((transaction) => transaction.kind)).toEqual(['payment_capture']);
      expect(legs(transactions[0])).toEqual(
        [
          [systemAccountId('provider_clearing', 'USD'), -10_000],
          [merchantAccountId('merchant_pending', merchant.id, 'USD'), 9_680],
          [systemAccountId('platform_fees', 'USD'), 320],
        ].sort(),
      );
    }
    expect(await balanceOf(stack, merchantAccountId('merchant_pending', merchant.id, 'USD'))).toBe(19_360n);
    await expectHealthyLedger(stack);
  }, 120_000);
});
