import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, bearer, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import {
  reconciliationWorkflowId,
  utcDayBefore,
  utcDayOf,
  type ReconciliationTarget,
} from '../../src/domain/reconciliation.ts';
import { defaultFeeSchedule, feeFor } from '../../src/domain/fees.ts';
import { post } from '../../src/ledger/ledger.ts';
import { captureRecipe } from '../../src/ledger/payment-recipes.ts';
import { ensureAccounts } from '../../src/payments/payment-books.ts';
import { ensureReconciliationSchedule } from '../../src/temporal/reconciliation-schedule.ts';
import type { ReconciliationItem } from '../../src/reconciliation/public-item.ts';
import type { ReconciliationRun } from '../../src/reconciliation/public-run.ts';
import type { reconciliationTriggerWorkflow } from '../../workflows/reconciliation.ts';

// Reconciliation on the real stack: the suite's own simulator publishes the settlement reports,
// our ledger is the run's database. The suite keeps to currencies no other suite pays in (SEK,
// DKK, NOK, CZK), so the days it reconciles hold only its own payments, whatever runs beside it.

let stack: Stack;
let merchant: { id: string; apiKey: string };
let api: ReturnType<typeof paymentsClient>;
const admin = () => bearer(stack.adminApiKey);

beforeAll(async () => {
  stack = await startStack('reconciliation', {
    rateLimitPerSecond: 10_000,
    // Authorizations left uncaptured by the seeds must outlive the suite.
    authorizationExpiryMs: 60 * 60_000,
    providerRouting: { USD: ['stripe', 'paypal'], EUR: ['paypal', 'stripe'], DKK: ['paypal'] },
  });
  merchant = await stack.merchant();
  api = paymentsClient(stack, merchant);
});
afterAll(async () => {
  const report = await stack.app.inject({ method: 'GET', url: '/v1/ledger/integrity', headers: admin() });
  expect(report.json()).toMatchObject({ healthy: true, discrepancies: [] });
  await stack?.close();
});

const today = () => utcDayOf(Date.now());

async function pay(payload: object): Promise<{ id: string; status: string }> {
  const response = await api.create(payload);
  expect(response.statusCode).toBe(201);
  return response.json();
}

async function refund(paymentId: string, amount: number): Promise<void> {
  const response = await api.act(paymentId, 'refunds', { amount }, { 'idempotency-key': randomUUID() });
  expect(response.statusCode).toBe(201);
}

/** Starts the day's run through the API, waits for its workflow, and answers the run. */
async function reconcileDay(target: ReconciliationTarget): Promise<ReconciliationRun> {
  const started = await stack.app.inject({
    method: 'POST',
    url: '/v1/reconciliation/runs',
    headers: admin(),
    payload: target,
  });
  expect(started.statusCode).toBe(202);
  expect(started.json()).toMatchObject({ object: 'reconciliation_run', status: 'running', ...target });
  await stack.temporal.workflow.getHandle(reconciliationWorkflowId(target)).result();
  const run = await stack.app.inject({
    method: 'GET',
    url: `/v1/reconciliation/runs/${started.json().id}`,
    headers: admin(),
  });
  expect(run.statusCode).toBe(200);
  return run.json();
}

async function itemsOf(runId: string, query = ''): Promise<ReconciliationItem[]> {
  const response = await stack.app.inject({
    method: 'GET',
    url: `/v1/reconciliation/runs/${runId}/items?limit=100${query}`,
    headers: admin(),
  });
  expect(response.statusCode).toBe(200);
  return response.json().data;
}

/** A call to the simulator's Stripe API, as another client of the provider would make it. */
async function stripe<T>(url: string, payload: object): Promise<T> {
  const response = await stack.sim.inject({
    method: 'POST',
    url: `/stripe${url}`,
    headers: { 'idempotency-key': randomUUID() },
    payload,
  });
  expect(response.statusCode).toBe(200);
  return response.json<T>();
}

const chargeOf = async (paymentId: string) =>
  (await stack.prisma.payment.findUniqueOrThrow({ where: { id: paymentId } })).providerChargeId ?? '';

/** A capture posted through the ledger's own recipe, with no provider call behind it. */
async function bookCapture(paymentId: string, currency: string, amount: bigint, idempotencyKey?: string) {
  const recipe = captureRecipe(
    { paymentId, merchantId: merchant.id, currency, walletAccountId: null },
    amount,
    feeFor(amount, currency, defaultFeeSchedule),
  );
  await ensureAccounts(stack.prisma, recipe.accounts);
  const posted = await post(stack.prisma, {
    ...recipe.posting,
    idempotencyKey: idempotencyKey ?? recipe.posting.idempotencyKey,
  });
  return posted.transactionId;
}

describe('a clean day', () => {
  it('matches every capture and refund once and reports zero items (stripe)', async () => {
    const automatic = await pay({ amount: 10_000, currency: 'SEK', source: card() });
    const refunded = await pay({ amount: 5_000, currency: 'SEK', source: card() });
    await refund(refunded.id, 2_000);
    await refund(refunded.id, 3_000);
    const partial = await pay({ amount: 8_000, currency: 'SEK', source: card(), capture_method: 'manual' });
    expect((await api.act(partial.id, 'capture', { amount: 6_000 })).statusCode).toBe(200);
    const voided = await pay({ amount: 4_000, currency: 'SEK', source: card(), capture_method: 'manual' });
    expect((await api.act(voided.id, 'cancel')).statusCode).toBe(200);
    expect((await pay({ amount: 700, currency: 'SEK', source: card('tok_chargeDeclined') })).status).toBe('failed');
    expect(automatic.status).toBe('succeeded');

    const run = await reconcileDay({ provider: 'stripe', currency: 'SEK', date: today() });
    expect(run).toMatchObject({
      status: 'completed',
      executions: 1,
      provider_lines: 5,
      ledger_transactions: 5,
      matched: 5,
      items: { total: 0, open: 0, missing_in_ledger: 0, missing_at_provider: 0, amount_mismatch: 0, duplicate: 0 },
      totals: {
        provider: { captured: 21_000, refunded: 5_000, net: 16_000 },
        ledger: { captured: 21_000, refunded: 5_000, net: 16_000 },
        agree: true,
      },
      ledger_integrity: { healthy: true, discrepancies: 0 },
      failure_code: null,
    });
    expect(await itemsOf(run.id)).toEqual([]);
  });

  it('reads PayPal’s report the same way', async () => {
    const payment = await pay({ amount: 7_000, currency: 'DKK', source: card() });
    expect((await stack.prisma.payment.findUniqueOrThrow({ where: { id: payment.id } })).provider).toBe('paypal');
    await refund(payment.id, 1_250);
    const run = await reconcileDay({ provider: 'paypal', currency: 'DKK', date: today() });
    expect(run).toMatchObject({
      status: 'completed',
      provider_lines: 2,
      ledger_transactions: 2,
      matched: 2,
      items: { total: 0 },
      totals: { provider: { captured: 7_000, refunded: 1_250 }, agree: true },
    });
  });
});

describe('a provider outage', () => {
  it('is ridden out: the report is fetched again until it comes, and the day still reconciles clean', async () => {
    const payment = await pay({ amount: 2_000, currency: 'CZK', source: card() });
    expect(payment.status).toBe('succeeded');
    const outage = await stack.sim.inject({
      method: 'POST',
      url: '/admin/faults',
      payload: { provider: 'stripe', outage_seconds: 2 },
    });
    expect(outage.statusCode).toBe(200);
    const before = (await api.simStats()).stripe.requests;
    const run = await reconcileDay({ provider: 'stripe', currency: 'CZK', date: today() });
    // Turned away while the outage lasted, then served.
    expect((await api.simStats()).stripe.requests - before).toBeGreaterThan(2);
    expect(run).toMatchObject({
      status: 'completed',
      provider_lines: 1,
      matched: 1,
      items: { total: 0 },
      failure_code: null,
    });
  });
});

describe('a day with every kind of mismatch', () => {
  const target = () => ({ provider: 'stripe' as const, currency: 'NOK', date: today() });
  const seeded = {
    matched: '',
    ghost: '',
    providerRefund: '',
    unCaptured: '',
    unCapturedTxn: '',
    mismatched: '',
    twice: '',
    bookedTwice: '',
  };

  beforeAll(async () => {
    // Matched: a plain capture.
    const matched = await pay({ amount: 10_000, currency: 'NOK', source: card() });
    seeded.matched = matched.id;
    // missing_in_ledger: a capture the provider has and we don't, and a refund made at the provider's dashboard.
    seeded.ghost = `pay_ghost_${randomUUID().slice(0, 8)}`;
    await stripe('/v1/charges', {
      amount: 2_500,
      currency: 'nok',
      source: 'tok_visa',
      capture: true,
      metadata: { payment_id: seeded.ghost },
    });
    seeded.providerRefund = (
      await stripe<{ id: string }>('/v1/refunds', { charge: await chargeOf(matched.id), amount: 1_000 })
    ).id;
    // missing_at_provider: a capture we booked for an authorization the provider never captured.
    const authorized = await pay({ amount: 3_000, currency: 'NOK', source: card(), capture_method: 'manual' });
    seeded.unCaptured = authorized.id;
    seeded.unCapturedTxn = await bookCapture(authorized.id, 'NOK', 3_000n);
    // amount_mismatch: the provider captured 6,000 of an authorization we booked as 9,000.
    const mismatched = await pay({ amount: 9_000, currency: 'NOK', source: card(), capture_method: 'manual' });
    seeded.mismatched = mismatched.id;
    await stripe(`/v1/charges/${await chargeOf(mismatched.id)}/capture`, { amount: 6_000 });
    await bookCapture(mismatched.id, 'NOK', 9_000n);
    // duplicate at the provider: one payment charged twice; we booked it once.
    seeded.twice = `pay_twice_${randomUUID().slice(0, 8)}`;
    for (let charge = 0; charge < 2; charge++) {
      await stripe('/v1/charges', {
        amount: 1_500,
        currency: 'nok',
        source: 'tok_visa',
        capture: true,
        metadata: { payment_id: seeded.twice },
      });
    }
    await bookCapture(seeded.twice, 'NOK', 1_500n);
    // duplicate in our ledger: a capture booked a second time under another key.
    const booked = await pay({ amount: 4_000, currency: 'NOK', source: card() });
    seeded.bookedTwice = booked.id;
    await bookCapture(booked.id, 'NOK', 4_000n, `${booked.id}:capture:ledger:again`);
  });

  let run: ReconciliationRun;
  let items: ReconciliationItem[];

  it('finds each seeded mismatch exactly once', async () => {
    run = await reconcileDay(target());
    items = await itemsOf(run.id);
    const found = (kind: string, paymentId: string) =>
      items.filter((item) => item.kind === kind && item.payment_id === paymentId);
    expect(items).toHaveLength(6);
    expect(found('missing_in_ledger', seeded.ghost)).toEqual([
      expect.objectContaining({
        subject: 'capture',
        provider_amount: 2_500,
        ledger_amount: null,
        ledger_transaction_ids: [],
      }),
    ]);
    expect(found('missing_in_ledger', seeded.matched)).toEqual([
      expect.objectContaining({
        subject: 'refund',
        provider_line_ids: [seeded.providerRefund],
        provider_amount: 1_000,
        ledger_amount: null,
      }),
    ]);
    expect(found('missing_at_provider', seeded.unCaptured)).toEqual([
      expect.objectContaining({
        subject: 'capture',
        provider_line_ids: [],
        provider_amount: null,
        ledger_transaction_ids: [seeded.unCapturedTxn],
        ledger_amount: 3_000,
      }),
    ]);
    expect(found('amount_mismatch', seeded.mismatched)).toEqual([
      expect.objectContaining({ subject: 'capture', provider_amount: 6_000, ledger_amount: 9_000 }),
    ]);
    const providerTwice = found('duplicate', seeded.twice);
    expect(providerTwice).toHaveLength(1);
    expect(providerTwice[0]).toMatchObject({ provider_amount: 3_000, ledger_amount: 1_500 });
    expect(providerTwice[0]?.provider_line_ids).toHaveLength(2);
    const ledgerTwice = found('duplicate', seeded.bookedTwice);
    expect(ledgerTwice).toHaveLength(1);
    expect(ledgerTwice[0]).toMatchObject({ provider_amount: 4_000, ledger_amount: 8_000 });
    expect(ledgerTwice[0]?.ledger_transaction_ids).toHaveLength(2);
    for (const item of items)
      expect(item).toMatchObject({ status: 'open', currency: 'NOK', run_id: run.id, note: null });

    expect(run).toMatchObject({
      status: 'completed',
      provider_lines: 7,
      ledger_transactions: 6,
      matched: 1,
      items: { total: 6, open: 6, missing_in_ledger: 2, missing_at_provider: 1, amount_mismatch: 1, duplicate: 2 },
      totals: {
        provider: { captured: 25_500, refunded: 1_000, net: 24_500 },
        ledger: { captured: 31_500, refunded: 0, net: 31_500 },
        agree: false,
      },
      ledger_integrity: { healthy: true, discrepancies: 0 },
    });
  });

  it('announces each item once, and the run, as platform events', async () => {
    const events = await stack.prisma.event.findMany({
      where: { type: 'reconciliation.mismatch_found', resourceId: { in: items.map((item) => item.id) } },
    });
    expect(events).toHaveLength(6);
    for (const event of events) {
      expect(event.merchantId).toBeNull();
      expect(event.data).toEqual(items.find((item) => item.id === event.resourceId));
    }
    const completed = await stack.prisma.event.findMany({
      where: { type: 'reconciliation.run_completed', resourceId: run.id },
    });
    expect(completed).toHaveLength(1);
    expect(completed[0]?.data).toEqual(run);
    // No merchant hears of them.
    const listed = await stack.app.inject({
      method: 'GET',
      url: '/v1/events?limit=100',
      headers: bearer(merchant.apiKey),
    });
    expect(listed.json().data.map((event: { type: string }) => event.type)).not.toContain(
      'reconciliation.mismatch_found',
    );
  });

  it('resolves an item with a note, once', async () => {
    const item = items.find((candidate) => candidate.kind === 'amount_mismatch');
    if (!item) throw new Error('no amount_mismatch item');
    const resolve = (note: string) =>
      stack.app.inject({
        method: 'POST',
        url: `/v1/reconciliation/items/${item.id}/resolve`,
        headers: admin(),
        payload: { note },
      });
    const resolved = await resolve('Partial capture at the provider; merchant refunded 3,000 NOK by hand.');
    expect(resolved.statusCode).toBe(200);
    expect(resolved.json()).toMatchObject({
      id: item.id,
      status: 'resolved',
      note: 'Partial capture at the provider; merchant refunded 3,000 NOK by hand.',
    });
    expect(Date.parse(resolved.json().resolved_at)).toBeGreaterThan(0);
    // The same request again answers the same; another note is refused, the first stands.
    const again = await resolve('Partial capture at the provider; merchant refunded 3,000 NOK by hand.');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(resolved.json());
    const other = await resolve('Something else.');
    expect(other.statusCode).toBe(409);
    expect(other.json().error).toMatchObject({ code: 'item_already_resolved' });
    const missing = await stack.app.inject({
      method: 'POST',
      url: '/v1/reconciliation/items/rci_nothing/resolve',
      headers: admin(),
      payload: { note: 'x' },
    });
    expect(missing.statusCode).toBe(404);
    const empty = await resolve('');
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error).toMatchObject({ code: 'parameter_invalid', param: 'note' });

    expect(await itemsOf(run.id, '&status=resolved')).toEqual([resolved.json()]);
    expect(await itemsOf(run.id, '&kind=duplicate')).toHaveLength(2);
  });

  it('runs the same day again idempotently: the same items, none replaced, nothing announced twice', async () => {
    const again = await reconcileDay(target());
    expect(again).toMatchObject({
      id: run.id,
      status: 'completed',
      executions: 2,
      provider_lines: 7,
      ledger_transactions: 6,
      matched: 1,
      items: { total: 6, open: 5 },
      totals: run.totals,
    });
    const after = await itemsOf(run.id);
    const byId = (a: ReconciliationItem, b: ReconciliationItem) => a.id.localeCompare(b.id);
    // The items of the first run, as they stand after one of them was resolved.
    const resolved = after.find((item) => item.kind === 'amount_mismatch');
    const expected = items.map((item) => (resolved && item.id === resolved.id ? resolved : item));
    expect([...after].sort(byId)).toEqual([...expected].sort(byId));
    expect(after.find((item) => item.kind === 'amount_mismatch')).toMatchObject({ status: 'resolved' });
    expect(
      await stack.prisma.event.count({
        where: { type: 'reconciliation.mismatch_found', resourceId: { in: after.map((item) => item.id) } },
      }),
    ).toBe(6);
    expect(
      await stack.prisma.event.count({ where: { type: 'reconciliation.run_completed', resourceId: run.id } }),
    ).toBe(2);
  });

  it('lists runs by provider, currency and day, newest first, page by page', async () => {
    const list = async (query: string) => {
      const response = await stack.app.inject({
        method: 'GET',
        url: `/v1/reconciliation/runs?${query}`,
        headers: admin(),
      });
      expect(response.statusCode).toBe(200);
      return response.json<{ data: ReconciliationRun[]; has_more: boolean }>();
    };
    const nok = await list(`provider=stripe&currency=NOK&date=${today()}`);
    expect(nok.data.map((listed) => listed.id)).toEqual([run.id]);
    const first = await list(`date=${today()}&limit=1`);
    expect(first.data).toHaveLength(1);
    expect(first.has_more).toBe(true);
    const next = await list(`date=${today()}&limit=100&starting_after=${first.data[0]?.id}`);
    expect(next.data.map((listed) => listed.id)).not.toContain(first.data[0]?.id);
    const unknownCursor = await stack.app.inject({
      method: 'GET',
      url: '/v1/reconciliation/runs?starting_after=rcn_nothing',
      headers: admin(),
    });
    expect(unknownCursor.statusCode).toBe(404);
  });
});

describe('the reconciliation API', () => {
  it('is the platform’s: a merchant key is refused with 403, no key with 401', async () => {
    const routes: [string, string, object?][] = [
      ['POST', '/v1/reconciliation/runs', { provider: 'stripe', currency: 'SEK', date: today() }],
      ['GET', '/v1/reconciliation/runs'],
      ['GET', '/v1/reconciliation/runs/rcn_x'],
      ['GET', '/v1/reconciliation/runs/rcn_x/items'],
      ['GET', '/v1/reconciliation/items/rci_x'],
      ['POST', '/v1/reconciliation/items/rci_x/resolve', { note: 'mine' }],
    ];
    for (const [method, url, payload] of routes) {
      const asMerchant = await stack.app.inject({
        method: method as 'GET',
        url,
        headers: bearer(merchant.apiKey),
        ...(payload ? { payload } : {}),
      });
      expect(asMerchant.statusCode, `${method} ${url}`).toBe(403);
      expect(asMerchant.json().error).toMatchObject({ type: 'permission_error', code: 'permission_denied' });
      const anonymous = await stack.app.inject({ method: method as 'GET', url, ...(payload ? { payload } : {}) });
      expect(anonymous.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('refuses a day that is not a calendar day or has not begun, and unknown currencies', async () => {
    const start = (payload: object) =>
      stack.app.inject({ method: 'POST', url: '/v1/reconciliation/runs', headers: admin(), payload });
    const tomorrow = utcDayOf(Date.now() + 24 * 60 * 60 * 1000);
    for (const [payload, param] of [
      [{ provider: 'stripe', currency: 'SEK', date: tomorrow }, 'date'],
      [{ provider: 'stripe', currency: 'SEK', date: '2026-02-30' }, 'date'],
      [{ provider: 'stripe', currency: 'SEK', date: '06-12-2026' }, 'date'],
      [{ provider: 'stripe', currency: 'QQQ', date: today() }, 'currency'],
      [{ provider: 'adyen', currency: 'SEK', date: today() }, 'provider'],
    ] as const) {
      const response = await start(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'parameter_invalid', param });
    }
    const unknown = await stack.app.inject({ method: 'GET', url: '/v1/reconciliation/runs/rcn_x', headers: admin() });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatchObject({ code: 'resource_missing', param: 'id' });
  });
});

describe('the reconciliation schedule', () => {
  it('reconciles the day before the one it fires in, for every provider and currency that moved', async () => {
    const config = { ...stack.config, reconciliationScheduleId: `reconciliation-test-${randomUUID()}` };
    // Far from any time the test runs at: only the triggers below start it.
    config.reconciliationCron = '0 0 29 2 *';
    await ensureReconciliationSchedule(stack.temporal, config);
    const schedule = stack.temporal.schedule.getHandle(config.reconciliationScheduleId);
    try {
      expect((await schedule.describe()).action).toMatchObject({
        type: 'startWorkflow',
        workflowType: 'reconciliationTriggerWorkflow',
        taskQueue: stack.taskQueue,
        args: [{ providers: ['paypal', 'stripe'] }],
      });
      await schedule.trigger();
      await expect
        .poll(async () => (await schedule.describe()).info.recentActions.length, { timeout: 10_000, interval: 50 })
        .toBe(1);
      const [action] = (await schedule.describe()).info.recentActions;
      if (!action) throw new Error('the schedule took no action');
      const { workflowId, firstExecutionRunId } = action.action.workflow;
      const result = await stack.temporal.workflow
        .getHandle<typeof reconciliationTriggerWorkflow>(workflowId, undefined, { firstExecutionRunId })
        .result();
      expect(result.date).toBe(utcDayBefore(action.scheduledAt.getTime()));
    } finally {
      await schedule.delete();
    }

    // For a given day, it finds the pairs that moved: here the suite's PayPal kroner.
    const handle = await stack.temporal.workflow.start<typeof reconciliationTriggerWorkflow>(
      'reconciliationTriggerWorkflow',
      {
        taskQueue: stack.taskQueue,
        workflowId: `reconciliation-trigger-${randomUUID()}`,
        args: [{ providers: ['paypal'], date: today() }],
      },
    );
    const { started } = await handle.result();
    expect(started).toContainEqual({ provider: 'paypal', currency: 'DKK', date: today() });
    expect(started.every((target) => target.provider === 'paypal')).toBe(true);
    await stack.temporal.workflow
      .getHandle(reconciliationWorkflowId({ provider: 'paypal', currency: 'DKK', date: today() }))
      .result();
  });
});
