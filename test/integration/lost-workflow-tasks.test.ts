import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { startStack, type Stack } from '../support/stack.ts';
import { randomUUID } from 'node:crypto';
import { createCardOutcomeActivities } from '../../activities/card-outcomes.ts';
import { createCardProviderActivities } from '../../activities/card-provider.ts';
import { createPaymentRecordActivities } from '../../activities/payment-records.ts';
import { createProviderAttemptLog } from '../../src/providers/provider-attempts.ts';
import { createProviderGateway } from '../../src/providers/index.ts';
import type { ProviderRouter } from '../../src/providers/router.ts';
import { cipherFor } from '../../src/crypto/column-cipher.ts';
import { requireKeyring } from '../../src/config.ts';
import { openingView, type PaymentView } from '../../src/domain/payment-view.ts';
import { defaultFeeSchedule } from '../../src/domain/fees.ts';

// The payment workflow's steps are local activities: a workflow task lost after they acted (a
// killed worker, a task over its timeout) is replaced by one that runs them again. Here a step
// runs twice, as the two tasks would run it, against the real simulator and PostgreSQL: the
// second run must reach the charge the first one made (sticky routing), and what the second
// task records must replace what the lost one recorded at the same versions.

const providerTimeoutMs = 500;

let stack: Stack;
const routers: ProviderRouter[] = [];

beforeAll(async () => {
  stack = await startStack(
    'lost-workflow-tasks',
    // Every request reaches the simulator unless a test opens a circuit itself.
    { providerTimeoutMs, breakerVolumeThreshold: 1_000 },
    { hangMs: 1_500 },
  );
});

beforeEach(async () => {
  await stack.sim.inject({ method: 'DELETE', url: '/admin/faults' });
});

afterAll(async () => {
  for (const router of routers) router.shutdown();
  await stack?.sim.inject({ method: 'DELETE', url: '/admin/faults' });
  await stack?.close();
});

async function fault(path: string, body: Record<string, unknown>): Promise<void> {
  const response = await stack.sim.inject({ method: 'POST', url: path, payload: body });
  expect(response.statusCode).toBe(200);
}

async function chargesAtSimulator(paymentId: string): Promise<{ provider: string; id: string; status: string }[]> {
  const response = await stack.sim.inject({ method: 'GET', url: `/admin/charges?payment_id=${paymentId}` });
  return (response.json() as { data: { provider: string; id: string; status: string }[] }).data;
}

function gateway(overrides: Partial<Stack['config']> = {}): ProviderRouter {
  const router = createProviderGateway({ ...stack.config, ...overrides });
  routers.push(router);
  return router;
}

const paymentId = () => `pay_${randomUUID().replaceAll('-', '')}`;

function authorization(capture = true) {
  return { paymentId: paymentId(), amount: 2_500n, currency: 'USD', token: 'tok_visa', capture };
}

/** Runs an activity as one workflow task would; a second call is the task that replaced it. */
function asTask<A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment().run(activity, ...args);
}

describe('sticky provider routing', () => {
  it('reproduces the double charge without the attempt log', async () => {
    const { tryAuthorizeCard } = createCardOutcomeActivities(gateway());
    const input = authorization();
    await fault('/admin/faults', { provider: 'stripe', outage_seconds: 60 });
    await expect(asTask(tryAuthorizeCard, input)).resolves.toMatchObject({
      outcome: 'done',
      value: { provider: 'paypal', status: 'captured' },
    });
    await stack.sim.inject({ method: 'DELETE', url: '/admin/faults' });
    await expect(asTask(tryAuthorizeCard, input)).resolves.toMatchObject({
      outcome: 'done',
      value: { provider: 'stripe', status: 'captured' },
    });
    const charges = await chargesAtSimulator(input.paymentId);
    expect(charges.map((charge) => charge.provider).sort()).toEqual(['paypal', 'stripe']);
  });

  const steps = {
    tryAuthorizeCard: (router: ProviderRouter) =>
      createCardOutcomeActivities(router, createProviderAttemptLog(stack.prisma)).tryAuthorizeCard,
    authorizeCard: (router: ProviderRouter) =>
      createCardProviderActivities(router, createProviderAttemptLog(stack.prisma)).authorizeCard,
  };

  it.each(Object.keys(steps) as (keyof typeof steps)[])(
    '%s run again after a fallback goes back to the provider that charged, with the same answer',
    async (name) => {
      const step = steps[name](gateway()) as (input: ReturnType<typeof authorization>) => Promise<unknown>;
      const input = authorization();
      await fault('/admin/faults', { provider: 'stripe', outage_seconds: 60 });
      const first = await asTask(step, input);
      expect(JSON.stringify(first, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}` : value))).toMatch(
        /"provider":"paypal"/,
      );
      // The lost task's replacement runs the step again while stripe is healthy.
      await stack.sim.inject({ method: 'DELETE', url: '/admin/faults' });
      await expect(asTask(step, input)).resolves.toEqual(first);

      const charges = await chargesAtSimulator(input.paymentId);
      expect(charges).toEqual([expect.objectContaining({ provider: 'paypal', status: 'captured' })]);
      const attempts = await stack.prisma.providerAttempt.findMany({
        where: { paymentId: input.paymentId },
        orderBy: { attemptedAt: 'asc' },
      });
      expect(attempts.map(({ stepKey, provider, refused }) => ({ stepKey, provider, refused }))).toEqual([
        { stepKey: `${input.paymentId}:authorize`, provider: 'stripe', refused: true },
        { stepKey: `${input.paymentId}:authorize`, provider: 'paypal', refused: false },
      ]);
    },
  );

  it('never passes over a provider sent the step before that may hold it, even when it refuses now', async () => {
    const { tryAuthorizeCard } = createCardOutcomeActivities(gateway(), createProviderAttemptLog(stack.prisma));
    const input = authorization();
    // Stripe charges and the answer is lost: the first task's step is unknown at stripe.
    await fault('/admin/faults/timeouts', { provider: 'stripe', operation: 'authorize', processed: true, count: 1 });
    await expect(asTask(tryAuthorizeCard, input)).resolves.toMatchObject({ outcome: 'unknown', provider: 'stripe' });
    // The next task finds stripe in an outage: a 503 now does not undo the charge made then.
    await fault('/admin/faults', { provider: 'stripe', outage_seconds: 60 });
    await expect(asTask(tryAuthorizeCard, input)).resolves.toMatchObject({ outcome: 'unknown', provider: 'stripe' });
    await stack.sim.inject({ method: 'DELETE', url: '/admin/faults' });
    const done = await asTask(tryAuthorizeCard, input);
    expect(done).toMatchObject({ outcome: 'done', value: { provider: 'stripe', status: 'captured', amount: 2_500n } });

    const charges = await chargesAtSimulator(input.paymentId);
    expect(charges).toEqual([expect.objectContaining({ provider: 'stripe', status: 'captured' })]);
    expect(done.outcome === 'done' && done.value.chargeId).toBe(charges[0]?.id);
  });

  it('answers unknown instead of falling back when the circuit of a provider sent before is open', async () => {
    const router = gateway({ breakerVolumeThreshold: 1, breakerResetTimeoutMs: 60_000 });
    const { tryAuthorizeCard } = createCardOutcomeActivities(router, createProviderAttemptLog(stack.prisma));
    const input = authorization(false);
    await fault('/admin/faults', { provider: 'stripe', outage_seconds: 60 });
    const first = await asTask(tryAuthorizeCard, input);
    expect(first).toMatchObject({ outcome: 'done', value: { provider: 'paypal', status: 'authorized' } });

    // PayPal goes down long enough to open its circuit; stripe is healthy again.
    await stack.sim.inject({ method: 'DELETE', url: '/admin/faults' });
    await fault('/admin/faults', { provider: 'paypal', outage_seconds: 60 });
    for (let calls = 0; calls < 5 && router.breakerState('paypal') !== 'open'; calls++) {
      await expect(router.forCharge('paypal').get('no_such_charge')).rejects.toMatchObject({
        code: 'provider_unavailable',
      });
    }
    expect(router.breakerState('paypal')).toBe('open');
    await stack.sim.inject({ method: 'DELETE', url: '/admin/faults' });

    await expect(asTask(tryAuthorizeCard, input)).resolves.toMatchObject({
      outcome: 'unknown',
      provider: 'paypal',
      reason: 'paypal circuit is open; not calling it.',
    });
    const charges = await chargesAtSimulator(input.paymentId);
    expect(charges).toEqual([expect.objectContaining({ provider: 'paypal', status: 'authorized' })]);
  });

  it('passes over an open circuit of a provider sent before that surely turned every call away', async () => {
    // EUR goes to paypal first, then stripe: stripe is the last one the first run sent to.
    const input = { ...authorization(), currency: 'EUR' };
    const first = createCardOutcomeActivities(gateway(), createProviderAttemptLog(stack.prisma));
    // Both providers turn the first run away with 503s: neither can hold anything.
    await fault('/admin/faults', { outage_seconds: 60 });
    await expect(asTask(first.tryAuthorizeCard, input)).rejects.toMatchObject({ code: 'provider_unavailable' });

    // The next run finds stripe's circuit open and paypal back.
    const router = gateway({ breakerVolumeThreshold: 1, breakerResetTimeoutMs: 60_000 });
    await expect(router.forCharge('stripe').get('no_such_charge')).rejects.toMatchObject({
      code: 'provider_unavailable',
    });
    expect(router.breakerState('stripe')).toBe('open');
    await stack.sim.inject({ method: 'DELETE', url: '/admin/faults' });
    const next = createCardOutcomeActivities(router, createProviderAttemptLog(stack.prisma));
    await expect(asTask(next.tryAuthorizeCard, input)).resolves.toMatchObject({
      outcome: 'done',
      value: { provider: 'paypal', status: 'captured', currency: 'EUR' },
    });
    expect(await chargesAtSimulator(input.paymentId)).toEqual([
      expect.objectContaining({ provider: 'paypal', status: 'captured' }),
    ]);
  });
});

describe('transitions rewritten by a later workflow task', () => {
  let merchantId: string;
  let records: ReturnType<typeof createPaymentRecordActivities>;

  beforeAll(async () => {
    merchantId = (await stack.merchant()).id;
    records = createPaymentRecordActivities(stack.prisma, cipherFor(requireKeyring(stack.config)));
  });

  async function openedPayment(): Promise<PaymentView> {
    const view = openingView({
      paymentId: paymentId(),
      merchantId,
      amount: 4_000n,
      currency: 'USD',
      captureMethod: 'manual',
      source: { type: 'card', token: 'tok_visa' },
      customer: null,
      description: null,
      metadata: null,
      cardFingerprint: null,
      createdAt: new Date().toISOString(),
      settings: {
        authorizationExpiryMs: 60_000,
        reviewTimeoutMs: 60_000,
        settlementDelayMs: 60_000,
        refundWindowMs: 60_000,
        maxRefunds: 1,
        fee: defaultFeeSchedule,
        risk: {
          reviewAboveMinor: {},
          blockAboveMinor: {},
          maxPaymentsPerWindow: 100,
          velocityWindowMs: 1,
          blockedCustomers: [],
          blockedCards: [],
        },
      },
    });
    await records.openPayment({ view, event: { version: 1, type: 'payment.created', data: {} }, windowMs: 1 });
    return view;
  }

  type Write = { version: number; type: string; changes: Partial<PaymentView>; taskMark: bigint };

  function record(view: PaymentView, { version, type, changes, taskMark }: Write) {
    return records.recordTransition({
      view: { ...view, ...changes, version },
      event: { version, type, data: { mark: Number(taskMark) } },
      taskMark,
    });
  }

  async function stored(paymentId: string) {
    const payment = await stack.prisma.payment.findUniqueOrThrow({ where: { id: paymentId } });
    const events = await stack.prisma.paymentEvent.findMany({ where: { paymentId }, orderBy: { version: 'asc' } });
    return {
      status: payment.status,
      version: payment.version,
      failureCode: payment.failureCode,
      taskMark: payment.taskMark,
      events: events.map(({ version, type, data, taskMark }) => ({ version, type, data, taskMark })),
    };
  }

  async function announced(paymentId: string): Promise<[string, string][]> {
    const events = await stack.prisma.event.findMany({
      where: { sourceKey: { startsWith: `payment:${paymentId}:` } },
      orderBy: { sourceKey: 'asc' },
    });
    return events.map((event) => [event.sourceKey, event.type]);
  }

  const unknownOutcome: Omit<Write, 'taskMark'> = {
    version: 2,
    type: 'payment.outcome_unknown',
    changes: { status: 'processing', provider: 'stripe' },
  };
  const authorized: Omit<Write, 'taskMark'> = {
    version: 2,
    type: 'payment.requires_capture',
    changes: { status: 'requires_capture', provider: 'stripe', providerChargeId: 'ch_1', amountCapturable: 4_000n },
  };
  const failed: Omit<Write, 'taskMark'> = {
    version: 3,
    type: 'payment.failed',
    changes: { status: 'failed', failureCode: 'provider_unavailable', failureMessage: 'no answer' },
  };

  it('a later task rewrites the same version; an equal or lower mark changes nothing', async () => {
    const view = await openedPayment();
    await record(view, { ...unknownOutcome, taskMark: 10n });
    expect(await stored(view.id)).toMatchObject({ status: 'processing', version: 2, taskMark: 10n });

    await record(view, { ...authorized, taskMark: 20n });
    const rewritten = {
      status: 'requires_capture',
      version: 2,
      taskMark: 20n,
      events: [
        { version: 1, type: 'payment.created', data: {}, taskMark: 0n },
        { version: 2, type: 'payment.requires_capture', data: { mark: 20 }, taskMark: 20n },
      ],
    };
    expect(await stored(view.id)).toMatchObject(rewritten);

    // The lost task's late steps (a lower mark, at this version or the next) and a retry of
    // the later task's own step (an equal mark) leave it as it is.
    await record(view, { ...unknownOutcome, taskMark: 15n });
    await record(view, { ...unknownOutcome, taskMark: 20n });
    await record(view, { ...failed, taskMark: 15n });
    expect(await stored(view.id)).toMatchObject(rewritten);

    await record(view, { ...failed, taskMark: 20n });
    expect(await stored(view.id)).toMatchObject({
      status: 'failed',
      version: 3,
      failureCode: 'provider_unavailable',
      taskMark: 20n,
    });
    // Merchants heard of the rewritten version under a key of its own, and of nothing the lost
    // task's late steps recorded.
    await expect(announced(view.id)).resolves.toEqual([
      [`payment:${view.id}:1`, 'payment.created'],
      [`payment:${view.id}:2:20`, 'payment.requires_capture'],
      [`payment:${view.id}:3`, 'payment.failed'],
    ]);
  });

  it('a later task stopping at a lower version than the lost one reached replaces its snapshot', async () => {
    const view = await openedPayment();
    await record(view, { ...unknownOutcome, taskMark: 10n });
    await record(view, { ...failed, taskMark: 10n });
    expect(await stored(view.id)).toMatchObject({ status: 'failed', version: 3 });

    await record(view, { ...authorized, taskMark: 30n });
    const now = await stored(view.id);
    expect(now).toMatchObject({ status: 'requires_capture', version: 2, failureCode: null, taskMark: 30n });
    await expect(announced(view.id)).resolves.toEqual([
      [`payment:${view.id}:1`, 'payment.created'],
      [`payment:${view.id}:2:30`, 'payment.requires_capture'],
      [`payment:${view.id}:3`, 'payment.failed'],
    ]);
    // The lost task's version 3 event stays until the later task records its own version 3.
    expect(now.events.map((event) => [event.version, event.type, event.taskMark])).toEqual([
      [1, 'payment.created', 0n],
      [2, 'payment.requires_capture', 30n],
      [3, 'payment.failed', 10n],
    ]);
  });

  it('payment_events refuses every other update and every delete', async () => {
    const view = await openedPayment();
    await expect(
      stack.prisma.$executeRaw`UPDATE payment_events SET data = '{}'::jsonb WHERE payment_id = ${view.id}`,
    ).rejects.toThrow(/payment_events is append-only: UPDATE rejected/);
    await expect(
      stack.prisma.$executeRaw`UPDATE payment_events SET task_mark = 5, version = 7 WHERE payment_id = ${view.id}`,
    ).rejects.toThrow(/payment_events is append-only: UPDATE rejected/);
    await expect(stack.prisma.$executeRaw`DELETE FROM payment_events WHERE payment_id = ${view.id}`).rejects.toThrow(
      /payment_events is append-only: DELETE rejected/,
    );
  });
});
