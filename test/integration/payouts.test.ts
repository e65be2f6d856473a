import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { paymentsClient } from '../support/payments.ts';
import { startProviderProxy, type ProviderProxy } from '../support/worker-process.ts';
import { freePort } from '../../src/temporal/dev-server.ts';
import { buildApp } from '../../src/api/build.ts';
import { answerMarginMs } from '../../src/api/answer-deadlines.ts';
import { createProviderGateway } from '../../src/providers/index.ts';
import { createWorker } from '../../src/worker.ts';
import { requireKeyring } from '../../src/config.ts';
import { merchantAccountId, systemAccountId } from '../../src/ledger/ledger.ts';
import { requestedPayoutId, scheduledPayoutId } from '../../src/payouts/payout-ids.ts';
import { ensurePayoutSchedule } from '../../src/temporal/payout-schedule.ts';
import { utcDayOf } from '../../src/domain/reconciliation.ts';
import type { PayoutInput } from '../../src/domain/payout-view.ts';
import type { PayoutTiming } from '../../src/domain/payout-settings.ts';
import type { Payout } from '../../src/payouts/public-payout.ts';
import type { payoutTriggerWorkflow, payoutWorkflow } from '../../workflows/payout.ts';

// Payouts on the real stack: the merchant's available balance comes from real wallet payments
// that settle, payouts go to the suite's own simulator (through a proxy that can lose answers),
// and the simulator's payout.paid / payout.failed webhooks come back to our API over HTTP.

let stack: Stack;
let proxy: ProviderProxy;
/** Where the simulator sends its Stripe webhooks: this API's intake. */
let webhookUrl: string;
const admin = () => bearer(stack.adminApiKey);
const timing: PayoutTiming = { submitTimeoutMs: 20_000, lookupTimeoutMs: 20_000, statusPollMs: 3_000 };
const poll = { timeout: 20_000, interval: 100 };

beforeAll(async () => {
  proxy = await startProviderProxy(() => stack.simUrl);
  stack = await startStack(
    'payouts',
    {
      rateLimitPerSecond: 10_000,
      // Payments settle at once: their net proceeds become available to pay out.
      settlementDelayMs: 100,
      providerSimUrl: proxy.url,
      payoutTiming: timing,
      payoutMinimumAmountMinor: 100n,
      unmatchedRetryMs: 500,
      unmatchedGiveUpMs: 10_000,
    },
    { payoutArrivalMs: 300 },
  );
  // The simulator's webhooks reach this API as they would in production: signed, over HTTP.
  const port = await freePort();
  await stack.app.listen({ host: '127.0.0.1', port });
  webhookUrl = `http://127.0.0.1:${port}/v1/webhooks/stripe`;
  await webhooksTo(webhookUrl);
});
afterAll(async () => {
  if (stack) {
    const report = await stack.app.inject({ method: 'GET', url: '/v1/ledger/integrity', headers: admin() });
    expect(report.json()).toMatchObject({ healthy: true, discrepancies: [] });
    await stack.close();
  }
  await proxy?.close();
});

async function webhooksTo(url: string | null): Promise<void> {
  const response = await stack.sim.inject({
    method: 'POST',
    url: '/admin/webhooks',
    payload: { provider: 'stripe', url, secret: stack.config.webhookSecretsStripe[0] },
  });
  expect(response.statusCode).toBe(200);
}

async function simFaults(payload: object | undefined): Promise<void> {
  const response = payload
    ? await stack.sim.inject({ method: 'POST', url: '/admin/faults', payload: { provider: 'stripe', ...payload } })
    : await stack.sim.inject({ method: 'DELETE', url: '/admin/faults' });
  expect(response.statusCode).toBe(200);
}

async function simPayouts(payoutId: string) {
  const response = await stack.sim.inject({ method: 'GET', url: `/admin/payouts?payout_id=${payoutId}` });
  return response.json<{ data: { id: string; amount: number; status: string }[] }>().data;
}

/** One merchant and what it does through the API. */
async function merchantClient() {
  const merchant = await stack.merchant();
  const api = paymentsClient(stack, merchant);
  const auth = bearer(merchant.apiKey);
  const availableId = merchantAccountId('merchant_available', merchant.id, 'USD');

  const payout = (payload: object, key: string = randomUUID()) =>
    stack.app.inject({ method: 'POST', url: '/v1/payouts', headers: { ...auth, 'idempotency-key': key }, payload });
  const get = (url: string) => stack.app.inject({ method: 'GET', url, headers: auth });
  const payoutOf = async (id: string) => {
    const response = await get(`/v1/payouts/${id}`);
    expect(response.statusCode).toBe(200);
    return response.json<Payout>();
  };
  const settled = (id: string, status: 'paid' | 'failed') =>
    expect.poll(async () => (await payoutOf(id)).status, poll).toBe(status);
  const available = () => api.account(availableId);

  /** A wallet payment of `amount` that settles: its net proceeds become available. */
  const earn = async (amount: number): Promise<{ paymentId: string; net: number }> => {
    const wallet = await api.openAccount();
    await api.deposit(wallet, amount);
    const account = await stack.prisma.account.findUnique({ where: { id: availableId } });
    const before = Number(account?.balance ?? 0n);
    const response = await api.create({ amount, currency: 'USD', source: { type: 'wallet', account_id: wallet } });
    expect(response.statusCode).toBe(201);
    const payment = response.json<{ id: string; net_amount: number }>();
    await expect.poll(async () => (await api.get(payment.id)).settled, poll).toBe(true);
    expect((await available()).balance).toBe(before + payment.net_amount);
    return { paymentId: payment.id, net: payment.net_amount };
  };

  const settings = (payload: object) =>
    stack.app.inject({ method: 'POST', url: '/v1/payout_settings', headers: auth, payload });

  return { merchant, api, auth, availableId, payout, get, payoutOf, settled, available, earn, settings };
}

/** The ledger transactions of a payout, oldest first, as kind and signed entries by account. */
async function payoutLedger(payoutId: string) {
  const transactions = await stack.prisma.ledgerTransaction.findMany({
    where: { reference: payoutId },
    include: { entries: true },
    orderBy: { createdAt: 'asc' },
  });
  return transactions.map((transaction) => ({
    kind: transaction.kind,
    entries: Object.fromEntries(transaction.entries.map((entry) => [entry.accountId, Number(entry.amount)])),
  }));
}

async function payoutEvents(auth: { authorization: string }, payoutId: string) {
  const response = await stack.app.inject({ method: 'GET', url: '/v1/events?type=payout.*&limit=100', headers: auth });
  const events = response.json<{ data: { type: string; data: { object: Payout } }[] }>().data;
  return events.filter((event) => event.data.object.id === payoutId).reverse();
}

/** Starts a payout workflow with timing of its own (the API's comes from the suite's config). */
async function startWorkflowPayout(merchantId: string, amount: number, own: PayoutTiming) {
  const input: PayoutInput = {
    payoutId: requestedPayoutId(merchantId, randomUUID()),
    merchantId,
    amount: BigInt(amount),
    currency: 'USD',
    automatic: false,
    description: null,
    provider: 'stripe',
    timing: own,
  };
  return stack.temporal.workflow.start<typeof payoutWorkflow>('payoutWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: input.payoutId,
    args: [input],
  });
}

const inTransit = systemAccountId('payouts_in_transit', 'USD');
const paidOut = systemAccountId('external_payouts', 'USD');

describe('a payout paid by the bank', () => {
  it('holds, moves to in transit, then out of the books: exact entries, balances and events', async () => {
    const client = await merchantClient();
    const { net } = await client.earn(10_000);
    expect(net).toBe(9_680);

    const response = await client.payout({ currency: 'USD', amount: 5_000, description: 'December' });
    expect(response.statusCode).toBe(201);
    const created = response.json<Payout>();
    expect(created).toMatchObject({
      object: 'payout',
      amount: 5_000,
      currency: 'USD',
      automatic: false,
      description: 'December',
      failure_code: null,
      failure_message: null,
    });
    expect(['pending', 'in_transit']).toContain(created.status);
    expect(created.id).toMatch(/^pyo_/);
    // Held (or already in transit): either way not available any more.
    expect((await client.available()).available).toBe(4_680);

    await client.settled(created.id, 'paid');
    expect(await client.available()).toMatchObject({ balance: 4_680, held: 0, available: 4_680 });
    expect(await payoutLedger(created.id)).toEqual([
      { kind: 'payout', entries: { [client.availableId]: -5_000, [inTransit]: 5_000 } },
      { kind: 'payout_paid', entries: { [inTransit]: -5_000, [paidOut]: 5_000 } },
    ]);
    const hold = await stack.prisma.hold.findUniqueOrThrow({ where: { reference: created.id } });
    expect(hold).toMatchObject({ status: 'captured', amount: 5_000n, capturedAmount: 5_000n });

    // The bank's answer came by webhook, routed to this payout.
    const webhook = await stack.prisma.webhookEvent.findFirstOrThrow({ where: { payoutId: created.id } });
    expect(webhook).toMatchObject({ provider: 'stripe', type: 'payout_paid', outcome: 'delivered' });
    expect(await simPayouts(created.id)).toEqual([expect.objectContaining({ amount: 5_000, status: 'paid' })]);

    const paid = await client.payoutOf(created.id);
    expect(paid).toEqual({ ...created, status: 'paid' });
    const events = await payoutEvents(client.auth, created.id);
    expect(events.map((event) => event.type)).toEqual(['payout.created', 'payout.paid']);
    expect(events[0]?.data.object).toEqual({ ...created, status: 'pending' });
    expect(events[1]?.data.object).toEqual(paid);
  });

  it('answers a retry with the same Idempotency-Key with the first answer, and pays out once', async () => {
    const client = await merchantClient();
    await client.earn(2_000);
    const key = randomUUID();
    const first = await client.payout({ currency: 'USD', amount: 1_000 }, key);
    const again = await client.payout({ currency: 'USD', amount: 1_000 }, key);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(first.json<Payout>().id).toBe(requestedPayoutId(client.merchant.id, key));
    const other = await client.payout({ currency: 'USD', amount: 900 }, key);
    expect(other.statusCode).toBe(422);
    await client.settled(first.json<Payout>().id, 'paid');
    expect(await simPayouts(first.json<Payout>().id)).toHaveLength(1);
  });

  it('learns the outcome from the provider when no webhook comes', async () => {
    const client = await merchantClient();
    const { net } = await client.earn(3_000);
    await webhooksTo(null);
    try {
      const response = await client.payout({ currency: 'USD' });
      expect(response.json<Payout>().amount).toBe(net);
      const id = response.json<Payout>().id;
      await client.settled(id, 'paid');
      expect(await stack.prisma.webhookEvent.count({ where: { payoutId: id } })).toBe(0);
      expect(await client.available()).toMatchObject({ balance: 0, held: 0, available: 0 });
    } finally {
      await webhooksTo(webhookUrl);
    }
  });
});

describe('a payout no worker has taken yet', () => {
  it('answers 202 pending within its wait plus the margin, again on a keyed retry, and is paid once a worker runs', async () => {
    const client = await merchantClient();
    const { net } = await client.earn(2_000);
    const waitMs = 1_500;
    // An API whose payouts go to a task queue no worker polls until the end of the test.
    const config = { ...stack.config, taskQueue: `test-payouts-idle-${randomUUID()}`, payoutWaitMs: waitMs };
    const idle = await buildApp(
      { prisma: stack.prisma, temporal: stack.temporal, config },
      { logger: false, bodyLimitBytes: config.bodyLimitBytes, requestTimeoutMs: config.requestTimeoutMs },
    );
    const key = randomUUID();
    const send = async () => {
      const started = performance.now();
      const response = await idle.inject({
        method: 'POST',
        url: '/v1/payouts',
        headers: { ...client.auth, 'idempotency-key': key },
        payload: { currency: 'USD', amount: 1_000 },
      });
      return { response, elapsedMs: performance.now() - started };
    };
    const move = async (from: string, to: string, amount: number) => {
      const response = await stack.app.inject({
        method: 'POST',
        url: '/v1/transfers',
        headers: { ...client.auth, 'idempotency-key': randomUUID() },
        payload: { from_account_id: from, to_account_id: to, amount, currency: 'USD' },
      });
      expect(response.json()).toMatchObject({ status: 'succeeded' });
    };
    const elsewhere = await client.api.openAccount();
    try {
      const expectPending = ({ response, elapsedMs }: Awaited<ReturnType<typeof send>>) => {
        expect(response.statusCode).toBe(202);
        expect(elapsedMs).toBeLessThan(waitMs + answerMarginMs);
        expect(response.json()).toMatchObject({
          id: requestedPayoutId(client.merchant.id, key),
          status: 'pending',
          amount: 1_000,
        });
      };
      expectPending(await send());
      // Nothing is held before the workflow runs.
      expect(await client.available()).toMatchObject({ balance: net, held: 0 });
      // A keyed retry joins the payout its first attempt started, whatever the balance says now.
      await move(client.availableId, elsewhere, net);
      expectPending(await send());
      await move(elsewhere, client.availableId, net);
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
      const running = worker.run();
      try {
        await client.settled(requestedPayoutId(client.merchant.id, key), 'paid');
      } finally {
        worker.shutdown();
        await running;
        await connection.close();
        providers.shutdown();
      }
      expect(await client.available()).toMatchObject({ balance: net - 1_000, held: 0 });
      expect(await simPayouts(requestedPayoutId(client.merchant.id, key))).toHaveLength(1);
    } finally {
      await idle.close();
    }
  });
});

describe('a payout the bank returns', () => {
  it('reverses the money to the available balance, exactly, and says why', async () => {
    const client = await merchantClient();
    const { net } = await client.earn(4_000);
    await simFaults({ payout_failure_rate: 1 });
    try {
      const response = await client.payout({ currency: 'USD' });
      expect(response.statusCode).toBe(201);
      const payout = response.json<Payout>();
      expect(payout.amount).toBe(net);
      await client.settled(payout.id, 'failed');
      expect(await client.payoutOf(payout.id)).toMatchObject({
        status: 'failed',
        failure_code: 'payout_failed',
        failure_message: 'The bank returned the payout; the amount is back in the available balance.',
      });
      expect(await client.available()).toMatchObject({ balance: net, held: 0, available: net });
      expect(await payoutLedger(payout.id)).toEqual([
        { kind: 'payout', entries: { [client.availableId]: -net, [inTransit]: net } },
        { kind: 'payout_reversal', entries: { [inTransit]: -net, [client.availableId]: net } },
      ]);
      expect((await payoutEvents(client.auth, payout.id)).map((event) => event.type)).toEqual([
        'payout.created',
        'payout.failed',
      ]);
      const webhook = await stack.prisma.webhookEvent.findFirstOrThrow({ where: { payoutId: payout.id } });
      expect(webhook).toMatchObject({ type: 'payout_failed', outcome: 'delivered' });
    } finally {
      await simFaults(undefined);
    }
  });
});

describe('provider faults at submission', () => {
  it('retries a submission whose answer was lost with the same key: one payout at the provider', async () => {
    const client = await merchantClient();
    const { net } = await client.earn(2_000);
    proxy.loseAnswers((method, path) => method === 'POST' && path === '/stripe/v1/payouts', 1);
    const response = await client.payout({ currency: 'USD', amount: 1_500 });
    expect(response.statusCode).toBe(201);
    const id = response.json<Payout>().id;
    await client.settled(id, 'paid');
    expect(proxy.lostAnswers()).toBeGreaterThanOrEqual(1);
    expect(await simPayouts(id)).toHaveLength(1);
    expect(await payoutLedger(id)).toHaveLength(2);
    expect((await client.available()).available).toBe(net - 1_500);
  });

  it('retries through injected 503s: one payout at the provider once it answers', async () => {
    const client = await merchantClient();
    const { net } = await client.earn(2_000);
    await simFaults({ error_rate: 1 });
    const response = await client.payout({ currency: 'USD', amount: 1_000 });
    expect(response.statusCode).toBe(201);
    const id = response.json<Payout>().id;
    const stats = async () =>
      (await stack.sim.inject({ method: 'GET', url: '/admin/stats' })).json<{
        stripe: { injected_faults: number };
      }>().stripe.injected_faults;
    const faultsBefore = await stats();
    await expect.poll(stats, poll).toBeGreaterThan(faultsBefore);
    expect((await client.payoutOf(id)).status).toBe('pending');
    expect(await client.available()).toMatchObject({ held: 1_000, available: net - 1_000 });
    await simFaults(undefined);
    await client.settled(id, 'paid');
    expect(await simPayouts(id)).toHaveLength(1);
    expect(await client.available()).toMatchObject({ balance: net - 1_000, held: 0 });
  });

  it('finds a payout whose every answer was lost by looking it up, and pays it once', async () => {
    const client = await merchantClient();
    const { net } = await client.earn(2_000);
    proxy.loseAnswers((method, path) => method === 'POST' && path === '/stripe/v1/payouts', 100);
    try {
      const handle = await startWorkflowPayout(client.merchant.id, 1_200, {
        submitTimeoutMs: 2_500,
        lookupTimeoutMs: 20_000,
        statusPollMs: 3_000,
      });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'paid', amount: 1_200n });
      expect(await simPayouts(handle.workflowId)).toHaveLength(1);
      expect((await client.available()).available).toBe(net - 1_200);
    } finally {
      proxy.loseAnswers(() => false, 0);
    }
  });

  it('fails a payout the provider never took and gives the money back', async () => {
    const client = await merchantClient();
    const { net } = await client.earn(2_000);
    // Down for the whole submission window, back for the lookup, which finds nothing.
    await simFaults({ outage_seconds: 4 });
    try {
      const handle = await startWorkflowPayout(client.merchant.id, 1_000, {
        submitTimeoutMs: 2_000,
        lookupTimeoutMs: 20_000,
        statusPollMs: 3_000,
      });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'failed', failureCode: 'provider_unavailable' });
      expect(await simPayouts(handle.workflowId)).toHaveLength(0);
      expect(await client.available()).toMatchObject({ balance: net, held: 0, available: net });
      expect(await payoutLedger(handle.workflowId)).toEqual([]);
      const hold = await stack.prisma.hold.findUniqueOrThrow({ where: { reference: handle.workflowId } });
      expect(hold.status).toBe('released');
      expect((await payoutEvents(client.auth, handle.workflowId)).map((event) => event.type)).toEqual([
        'payout.created',
        'payout.failed',
      ]);
    } finally {
      await simFaults(undefined);
    }
  });
});

describe('concurrent payouts, refunds and transfers on one balance', () => {
  it('lets exactly what fits succeed; the balance never goes negative', async () => {
    const client = await merchantClient();
    const first = await client.earn(5_000);
    const second = await client.earn(5_000);
    const initial = first.net + second.net;
    expect(initial).toBe(9_650);
    const elsewhere = await client.api.openAccount();

    // Each operation and what it takes from the available balance if it succeeds.
    type Outcome = { name: string; debit: number; ok: boolean; code?: string; payoutId?: string };
    const payoutOp = async (amount: number): Promise<Outcome> => {
      const response = await client.payout({ currency: 'USD', amount });
      const body = response.json<Payout & { error?: { code: string } }>();
      if (response.statusCode === 201 && body.status !== 'failed') {
        return { name: `payout ${amount}`, debit: amount, ok: true, payoutId: body.id };
      }
      return { name: `payout ${amount}`, debit: amount, ok: false, code: body.failure_code ?? body.error?.code };
    };
    // A refund of 3,000 of a 5,000 payment takes 3,000 less its fee share (105) from the merchant.
    const refundOp = async (paymentId: string): Promise<Outcome> => {
      const response = await client.api.act(
        paymentId,
        'refunds',
        { amount: 3_000 },
        { 'idempotency-key': randomUUID() },
      );
      const body = response.json<{ status?: string; error?: { code: string } }>();
      return { name: `refund ${paymentId}`, debit: 2_895, ok: response.statusCode === 201, code: body.error?.code };
    };
    const transferOp = async (amount: number): Promise<Outcome> => {
      const response = await stack.app.inject({
        method: 'POST',
        url: '/v1/transfers',
        headers: { ...client.auth, 'idempotency-key': randomUUID() },
        payload: { from_account_id: client.availableId, to_account_id: elsewhere, amount, currency: 'USD' },
      });
      const body = response.json<{ status: string; failure_code: string | null }>();
      return {
        name: `transfer ${amount}`,
        debit: amount,
        ok: body.status === 'succeeded',
        code: body.failure_code ?? '',
      };
    };

    const outcomes = await Promise.all([
      payoutOp(3_000),
      refundOp(first.paymentId),
      transferOp(2_500),
      payoutOp(2_000),
      refundOp(second.paymentId),
      transferOp(1_500),
    ]);
    for (const outcome of outcomes.filter((candidate) => candidate.payoutId)) {
      await client.settled(outcome.payoutId as string, 'paid');
    }
    const succeeded = outcomes.filter((outcome) => outcome.ok);
    const failed = outcomes.filter((outcome) => !outcome.ok);
    const left = initial - succeeded.reduce((sum, outcome) => sum + outcome.debit, 0);
    expect(left).toBeGreaterThanOrEqual(0);
    expect(await client.available()).toMatchObject({ balance: left, held: 0, available: left });
    // Demand (14,790) exceeds the balance (9,650): something was refused, each for want of funds,
    // and nothing refused would have fitted in what is left.
    expect(failed.length).toBeGreaterThan(0);
    expect(succeeded.length).toBeGreaterThan(0);
    for (const outcome of failed) {
      expect(outcome.code, outcome.name).toBe('insufficient_funds');
      expect(outcome.debit, outcome.name).toBeGreaterThan(left);
    }
    // The balance never went below zero: every entry of the account left it at 0 or more.
    const lowest = await stack.prisma.ledgerEntry.aggregate({
      where: { accountId: client.availableId },
      _min: { balanceAfter: true },
    });
    expect(lowest._min.balanceAfter).toBeGreaterThanOrEqual(0n);
  });
});

describe('a payout held on the balance', () => {
  it('keeps refunds and transfers from the held money while the provider is down', async () => {
    const client = await merchantClient();
    const { paymentId, net } = await client.earn(5_000);
    await simFaults({ error_rate: 1 });
    let id: string;
    try {
      const response = await client.payout({ currency: 'USD', amount: 4_000 });
      expect(response.json<Payout>().status).toBe('pending');
      id = response.json<Payout>().id;
      expect(await client.available()).toMatchObject({ balance: net, held: 4_000, available: net - 4_000 });
      const refund = await client.api.act(paymentId, 'refunds', { amount: 3_000 }, { 'idempotency-key': randomUUID() });
      expect(refund.statusCode).toBe(402);
      expect(refund.json().error).toMatchObject({ code: 'insufficient_funds' });
      const transfer = await stack.app.inject({
        method: 'POST',
        url: '/v1/transfers',
        headers: { ...client.auth, 'idempotency-key': randomUUID() },
        payload: {
          from_account_id: client.availableId,
          to_account_id: await client.api.openAccount(),
          amount: net - 3_999,
          currency: 'USD',
        },
      });
      expect(transfer.json()).toMatchObject({ status: 'failed', failure_code: 'insufficient_funds' });
      expect(await client.api.get(paymentId)).toMatchObject({ amount_refunded: 0 });
    } finally {
      await simFaults(undefined);
    }
    await client.settled(id, 'paid');
    // What is left can still be refunded: the payment took no harm from the refused refund.
    const refund = await client.api.act(paymentId, 'refunds', { amount: 500 }, { 'idempotency-key': randomUUID() });
    expect(refund.statusCode).toBe(201);
    expect(await client.available()).toMatchObject({ balance: net - 4_000 - (500 - 17), held: 0 });
  });
});

describe('what a payout may take', () => {
  it('refuses an amount below the minimum or above the available balance in the error shape', async () => {
    const client = await merchantClient();
    const { net } = await client.earn(1_000);
    const small = await client.payout({ currency: 'USD', amount: 99 });
    expect(small.statusCode).toBe(400);
    expect(small.json()).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'amount_too_small',
        message: 'A payout must be at least 100 (minor units of USD).',
        param: 'amount',
      },
    });
    const large = await client.payout({ currency: 'USD', amount: net + 1 });
    expect(large.statusCode).toBe(402);
    expect(large.json().error).toMatchObject({ code: 'insufficient_funds', param: 'amount' });
    const none = await client.payout({ currency: 'EUR' });
    expect(none.statusCode).toBe(400);
    expect(none.json().error).toMatchObject({ code: 'amount_too_small', param: 'amount' });

    // The merchant's own minimum: above the platform's, never below it.
    const raised = await client.settings({ minimum_amount: 5_000 });
    expect(raised.statusCode).toBe(200);
    expect(raised.json()).toEqual({ object: 'payout_settings', schedule: 'daily', minimum_amount: 5_000 });
    const all = await client.payout({ currency: 'USD' });
    expect(all.statusCode).toBe(400);
    expect(all.json().error).toMatchObject({ code: 'amount_too_small', param: 'amount' });
    const lowered = await client.settings({ minimum_amount: 99 });
    expect(lowered.statusCode).toBe(400);
    expect(lowered.json().error).toMatchObject({ code: 'parameter_invalid', param: 'minimum_amount' });
    const reset = await client.settings({ minimum_amount: null, schedule: 'manual' });
    expect(reset.json()).toEqual({ object: 'payout_settings', schedule: 'manual', minimum_amount: 100 });
    expect((await client.get('/v1/payout_settings')).json()).toEqual(reset.json());
    expect(await client.available()).toMatchObject({ balance: net, held: 0 });
    expect(await stack.prisma.payout.count({ where: { merchantId: client.merchant.id } })).toBe(0);
  });
});

describe('listing and reading payouts', () => {
  it('lists newest first with a cursor, filters by status, and reads one', async () => {
    const client = await merchantClient();
    await client.earn(5_000);
    const ids: string[] = [];
    for (const amount of [500, 600, 700]) {
      const response = await client.payout({ currency: 'USD', amount });
      expect(response.statusCode).toBe(201);
      ids.push(response.json<Payout>().id);
    }
    for (const id of ids) await client.settled(id, 'paid');
    const page = async (query: string) =>
      (await client.get(`/v1/payouts?${query}`)).json<{ object: string; data: Payout[]; has_more: boolean }>();
    const first = await page('limit=2');
    expect(first).toMatchObject({ object: 'list', has_more: true });
    expect(first.data.map((payout) => payout.id)).toEqual([ids[2], ids[1]]);
    const rest = await page(`limit=2&starting_after=${ids[1]}`);
    expect(rest).toMatchObject({ has_more: false });
    expect(rest.data.map((payout) => payout.id)).toEqual([ids[0]]);
    expect((await page('status=paid&limit=10')).data.map((payout) => payout.amount)).toEqual([700, 600, 500]);
    expect((await page('status=failed')).data).toEqual([]);
    expect((await page('currency=EUR')).data).toEqual([]);
    expect(await client.payoutOf(ids[0] as string)).toEqual(rest.data[0]);
    const unknown = await client.get('/v1/payouts/pyo_unknown');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatchObject({ code: 'resource_missing', param: 'id' });
    expect((await client.get('/v1/payouts?status=sent')).statusCode).toBe(400);
  });

  it("never shows one merchant another's payouts", async () => {
    const owner = await merchantClient();
    const stranger = await merchantClient();
    await owner.earn(1_000);
    const key = randomUUID();
    const response = await owner.payout({ currency: 'USD', amount: 500 }, key);
    const id = response.json<Payout>().id;
    const read = await stranger.get(`/v1/payouts/${id}`);
    expect(read.statusCode).toBe(404);
    expect(read.json()).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'resource_missing',
        message: `No such payout: '${id}'.`,
        param: 'id',
      },
    });
    expect((await stranger.get('/v1/payouts')).json().data).toEqual([]);
    expect((await stranger.get(`/v1/payouts?starting_after=${id}`)).statusCode).toBe(404);
    // The same key names another payout for another merchant, and its balance is its own.
    const own = await stranger.payout({ currency: 'USD', amount: 500 }, key);
    expect(own.statusCode).toBe(402);
    expect((await stranger.get('/v1/events?type=payout.*')).json().data).toEqual([]);
    await owner.settled(id, 'paid');
  });
});

describe('the payout schedule', () => {
  it('pays out each due merchant and currency once a day, the whole available balance', async () => {
    const daily = await merchantClient();
    const manual = await merchantClient();
    const belowMinimum = await merchantClient();
    const { net } = await daily.earn(2_000);
    await manual.earn(2_000);
    await belowMinimum.earn(2_000);
    expect((await manual.settings({ schedule: 'manual' })).statusCode).toBe(200);
    expect((await belowMinimum.settings({ minimum_amount: 5_000 })).statusCode).toBe(200);
    const merchantIds = [daily.merchant.id, manual.merchant.id, belowMinimum.merchant.id];

    const config = {
      ...stack.config,
      payoutScheduleId: `payouts-test-${randomUUID()}`,
      // Far from any time the test runs at: only the trigger below starts it.
      payoutCron: '0 0 29 2 *',
      payoutMerchantIds: merchantIds,
    };
    await ensurePayoutSchedule(stack.temporal, config);
    const schedule = stack.temporal.schedule.getHandle(config.payoutScheduleId);
    try {
      expect((await schedule.describe()).action).toMatchObject({
        type: 'startWorkflow',
        workflowType: 'payoutTriggerWorkflow',
        taskQueue: stack.taskQueue,
      });
      await schedule.trigger();
      await expect
        .poll(async () => (await schedule.describe()).info.recentActions.length, { timeout: 10_000, interval: 50 })
        .toBe(1);
      const [action] = (await schedule.describe()).info.recentActions;
      if (!action) throw new Error('the schedule took no action');
      const { workflowId, firstExecutionRunId } = action.action.workflow;
      const result = await stack.temporal.workflow
        .getHandle<typeof payoutTriggerWorkflow>(workflowId, undefined, { firstExecutionRunId })
        .result();
      const date = utcDayOf(action.scheduledAt.getTime());
      const expected = scheduledPayoutId(daily.merchant.id, 'USD', date);
      expect(result).toEqual({ date, started: [expected] });
      const paid = await stack.temporal.workflow.getHandle<typeof payoutWorkflow>(expected).result();
      expect(paid).toMatchObject({ status: 'paid', amount: BigInt(net), automatic: true });
      expect(await daily.payoutOf(expected)).toMatchObject({ status: 'paid', amount: net, automatic: true });
      expect(await daily.available()).toMatchObject({ balance: 0, held: 0 });
      expect((await manual.available()).available).toBe(net);
      expect((await belowMinimum.available()).available).toBe(net);

      // The same day again starts nothing, though the merchant earned more: the day's payout ran.
      const more = await daily.earn(1_000);
      const again = await stack.temporal.workflow.start<typeof payoutTriggerWorkflow>('payoutTriggerWorkflow', {
        taskQueue: stack.taskQueue,
        workflowId: `payout-trigger-${randomUUID()}`,
        args: [
          {
            merchantIds,
            defaults: { schedule: 'daily', minimumMinor: 100n },
            provider: 'stripe',
            timing,
            date,
          },
        ],
      });
      expect(await again.result()).toEqual({ date, started: [] });
      expect(await stack.prisma.payout.count({ where: { merchantId: { in: merchantIds } } })).toBe(1);
      expect((await daily.available()).available).toBe(more.net);
    } finally {
      await schedule.delete();
    }
  });
});
