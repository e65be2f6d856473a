import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { resourceIdFor } from '../../src/api/workflow-runs.ts';
import type { SimOperation } from '../../src/provider-sim/faults.ts';
import type { ActivityFaults } from './activity-faults.ts';
import {
  afterTimers,
  created,
  disputedOf,
  lostAnswerOf,
  planStep,
  refundedOf,
  shown,
  type Answer,
  type LostStep,
  type PaymentModel,
  type PlannedStep,
  type SimulationRules,
} from './simulation-model.ts';
import type { LostAnswer, PaymentHistory, ProviderName, Step } from './simulation-schedule.ts';
import { chargeOf, chargesOf, disputeAtProvider, refundAtProvider, timeOutFor } from './simulator-charges.ts';
import { bearer, type Stack } from './stack.ts';
import { redeliver } from './webhook-redeliveries.ts';

// Runs one generated history against the real stack, through the API as a merchant would, the
// simulator's routes as the provider would and the admin lookup as an operator would, checking
// every answer against the model as it goes. Each step waits until the payment has settled
// (nothing in doubt, no refund pending), so the next step's answer is the model's to predict.

export interface SimulationHarness {
  stack: Stack;
  /** The merchant a history pays (several histories share one: each checks its own payment). */
  merchant(): Promise<{ id: string; apiKey: string }>;
  /** The same API, creating payments with a one-second authorization expiry and review timeout. */
  shortTimersApp: FastifyInstance;
  faults: ActivityFaults;
  rules: SimulationRules;
  webhookSecrets: Record<ProviderName, string>;
  /** Bound of every wait for the payment, in ms: generous, a loaded machine is slow. */
  waitTimeoutMs: number;
}

export interface HistoryRun {
  history: PaymentHistory;
  merchant: { id: string; apiKey: string };
  paymentId: string;
  /** The model at the end, with everything the provider did shown. */
  model: PaymentModel;
  /** The payment's charges at the provider, declined ones included (their webhooks are ours). */
  chargeIds: string[];
  /** What was done, step by step: a failure's report. */
  trail: string[];
  tally: Record<'lostAnswers' | 'operatorLookups' | 'providerMoney' | 'redeliveries' | 'skipped', number>;
}

/** Where a step failed, with the history's trail so far. */
export class SimulationFailure extends Error {
  constructor(
    message: string,
    readonly run: Pick<HistoryRun, 'paymentId' | 'trail'>,
  ) {
    super(`${message}\n  payment ${run.paymentId}\n  trail: ${run.trail.join(' → ')}`);
    this.name = 'SimulationFailure';
  }
}

const lostOperations: Record<LostStep, { request: SimOperation; lookup: SimOperation }> = {
  authorize: { request: 'authorize', lookup: 'lookup' },
  capture: { request: 'capture', lookup: 'retrieve' },
  void: { request: 'void', lookup: 'retrieve' },
  refund: { request: 'refund', lookup: 'lookup' },
};

/** How often a wait for the payment looks again: after a step, and for a timer or a webhook. */
const pollIntervalMs = 100;
const timerPollMs = 250;
/** An operator asks again this long after a lookup that found nothing. */
const operatorPatienceMs = 1_000;

type Row = { status: string; settled: boolean; amountRefunded: bigint; refunds: { status: string }[] };

/** One history; throws SimulationFailure at the first answer or state the model did not predict. */
export async function runHistory(h: SimulationHarness, history: PaymentHistory, label: string): Promise<HistoryRun> {
  const merchant = await h.merchant();
  const key = `sim-${label}`;
  const paymentId = resourceIdFor('pay', `payment:${merchant.id}:${key}`);
  const run: HistoryRun = {
    history,
    merchant,
    paymentId,
    model: created(history, h.rules).model,
    chargeIds: [],
    trail: [],
    tally: { lostAnswers: 0, operatorLookups: 0, providerMoney: 0, redeliveries: 0, skipped: 0 },
  };
  h.faults.plan(paymentId, history.faults);
  try {
    await createPayment(h, run, key);
    for (const [index, step] of history.steps.entries()) await runStep(h, run, step, index);
    await finish(h, run);
    return run;
  } finally {
    h.faults.forget(paymentId);
  }
}

async function createPayment(h: SimulationHarness, run: HistoryRun, key: string): Promise<void> {
  const { history } = run;
  const { authorizes } = created(history, h.rules);
  const standBy = authorizes && (await loseAnswer(h, run, 'authorize', history.authorizeLost));
  const app = history.timers === 'short' ? h.shortTimersApp : h.stack.app;
  const payload = {
    amount: history.amount,
    currency: history.currency,
    capture_method: history.captureMethod,
    source: { type: 'card', token: history.token, ...(history.provider ? { provider: history.provider } : {}) },
  };
  run.trail.push(`create ${JSON.stringify(payload)}`);
  const response = await operating(h, run, standBy, () =>
    retried(() =>
      app.inject({
        method: 'POST',
        url: '/v1/payments',
        headers: { ...bearer(run.merchant.apiKey), 'idempotency-key': key },
        payload,
      }),
    ),
  );
  expectAnswer(run, response, [{ status: 201 }, { status: 202 }]);
  const body = response.json<{ id: string; status: string }>();
  if (body.id !== run.paymentId) fail(run, `created ${response.body}`);
  // A 201 answers a stable status: the model's, unless an operator's lookup is awaited.
  if (response.statusCode === 201 && body.status !== 'requires_attention') expectStatus(run, body, run.model.status);
  const settled = await settle(h, run);
  if (history.timers === 'long') {
    expectStatus(run, settled, run.model.status);
    return;
  }
  // Left to its one-second timers, which may have fired already.
  const before = run.model.status;
  run.model = afterTimers(run.model);
  if (settled.status !== before) expectStatus(run, settled, run.model.status);
  run.trail.push(`timers → ${run.model.status}`);
  const status = () => stateOf(h, run).then((row) => row.status);
  await waitFor(h, run, `status ${run.model.status}`, async () => (await status()) === run.model.status, timerPollMs);
}

async function runStep(h: SimulationHarness, run: HistoryRun, step: Step, index: number): Promise<void> {
  let planned = planStep(run.model, step, run.history, h.rules);
  if (planned.kind === 'sync_first') {
    await sync(h, run);
    planned = planStep(run.model, step, run.history, h.rules);
  }
  const label = `#${index} ${JSON.stringify(step)}`;
  switch (planned.kind) {
    case 'sync_first':
      return fail(run, `${label} still depends on the provider's money after a sync`);
    case 'skip':
      run.tally.skipped += 1;
      run.trail.push(`${label} skipped: ${planned.why}`);
      return;
    case 'sync':
      run.trail.push(label);
      return sync(h, run);
    case 'redeliver':
      return redeliverStep(h, run, step, label);
    case 'provider':
      run.trail.push(`${label} ${planned.amount}`);
      await providerMoney(h, run, step, planned.amount);
      run.model = planned.next;
      return;
    case 'api':
      run.trail.push(`${label} ${planned.amount ?? 'all'} → ${planned.next.status}`);
      return apiStep(h, run, step, index, planned);
  }
}

/** A merchant's or an operator's request through the API, its answer and the payment after it. */
async function apiStep(
  h: SimulationHarness,
  run: HistoryRun,
  step: Step,
  index: number,
  planned: Extract<PlannedStep, { kind: 'api' }>,
): Promise<void> {
  const standBy = planned.reachesProvider && (await loseAnswer(h, run, lostStepOf(step), lostOf(step, run.history)));
  const answer = await operating(h, run, standBy, () => send(h, run, step, index, planned.amount));
  expectAnswer(run, answer, planned.answers);
  run.model = planned.next;
  expectStatus(run, await settle(h, run), run.model.status);
}

/** An approval authorizes: the history's lost authorization answer is its. */
function lostOf(step: Step, history: PaymentHistory): LostAnswer | undefined {
  if (step.kind === 'approve') return history.authorizeLost;
  return 'lost' in step ? step.lost : undefined;
}

function lostStepOf(step: Step): LostStep {
  if (step.kind === 'approve') return 'authorize';
  if (step.kind === 'cancel') return 'void';
  return step.kind === 'refund' ? 'refund' : 'capture';
}

/** The merchant's request for an API step, keyed as a careful merchant keys it. */
function send(h: SimulationHarness, run: HistoryRun, step: Step, index: number, amount: bigint | undefined) {
  const path = step.kind === 'refund' ? 'refunds' : step.kind;
  return retried(() =>
    h.stack.app.inject({
      method: 'POST',
      url: `/v1/payments/${run.paymentId}/${path}`,
      headers: { ...bearer(run.merchant.apiKey), 'idempotency-key': `${run.paymentId}-step-${index}` },
      payload: amount === undefined ? {} : { amount: Number(amount) },
    }),
  );
}

/** Retries of a request not accepted in time (503 service_unavailable), as the API asks: same key. */
const maxRetries = 5;

async function retried(request: () => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
  let response = await request();
  for (let retry = 1; retry <= maxRetries && isNotAccepted(response); retry++) response = await request();
  return response;
}

function isNotAccepted(response: LightMyRequestResponse): boolean {
  return (
    response.statusCode === 503 && response.json<{ error?: { code?: string } }>().error?.code === 'service_unavailable'
  );
}

/**
 * Aims the simulator's timeout faults at this payment's next request of the step (and its
 * lookups); true when an operator has to stand by (every lookup will go unanswered).
 */
async function loseAnswer(
  h: SimulationHarness,
  run: HistoryRun,
  step: LostStep,
  lost: LostAnswer | undefined,
): Promise<boolean> {
  const { provider } = run.model;
  const applied = lostAnswerOf(step, lost, run.history, provider, h.rules);
  if (!applied) return false;
  run.tally.lostAnswers += 1;
  run.trail.push(
    `${step} answer lost (${applied.processed ? 'processed' : 'not processed'}${applied.attention ? ', lookups too' : ''})`,
  );
  const { request, lookup } = lostOperations[step];
  const { paymentId } = run;
  await timeOutFor(h.stack.sim, { provider, paymentId, operation: request, processed: applied.processed, count: 1 });
  if (applied.attention) {
    const count = applied.lookupRequests;
    await timeOutFor(h.stack.sim, { provider, paymentId, operation: lookup, processed: false, count });
  }
  return applied.attention;
}

async function providerMoney(h: SimulationHarness, run: HistoryRun, step: Step, amount: bigint): Promise<void> {
  const charge = await chargeOf(h.stack.sim, run.paymentId);
  if (step.kind === 'dispute') await disputeAtProvider(h.stack.sim, charge, amount);
  else await refundAtProvider(h.stack.sim, charge, amount);
  run.tally.providerMoney += 1;
}

async function redeliverStep(h: SimulationHarness, run: HistoryRun, step: Step, label: string): Promise<void> {
  if (step.kind !== 'redeliver') return;
  const charge = await chargeOf(h.stack.sim, run.paymentId);
  const sent = await redeliver(h.stack.app, charge, step.event, h.webhookSecrets[charge.provider]);
  run.tally.redeliveries += sent;
  run.trail.push(`${label} ${sent} event(s)`);
}

/** Waits until every refund and dispute made at the provider shows on the payment. */
async function sync(h: SimulationHarness, run: HistoryRun): Promise<void> {
  const refunded = refundedOf(run.model);
  const disputed = disputedOf(run.model);
  if (run.model.providerRefunds.length + run.model.disputes.length === 0) return;
  await waitFor(
    h,
    run,
    `refunded ${refunded} and disputed ${disputed} shown`,
    async () => (await stateOf(h, run)).amountRefunded === refunded && (await disputedOnPayment(h, run)) === disputed,
    timerPollMs,
  );
  run.model = shown(run.model);
}

/** The end of a history: all the provider's money shown, a succeeded payment settled. */
async function finish(h: SimulationHarness, run: HistoryRun): Promise<void> {
  await sync(h, run);
  run.chargeIds = (await chargesOf(h.stack.sim, run.paymentId)).map((charge) => charge.id);
  if (run.model.status === 'succeeded') {
    await waitFor(h, run, 'settled', async () => (await stateOf(h, run)).settled, timerPollMs);
  }
  run.trail.push(`end ${run.model.status}`);
}

/** Disputes the payment has recorded (funded or not), from its events. */
async function disputedOnPayment(h: SimulationHarness, run: HistoryRun): Promise<bigint> {
  const events = await h.stack.prisma.paymentEvent.findMany({
    where: { paymentId: run.paymentId, type: 'payment.dispute_created' },
    select: { data: true },
  });
  return events.reduce((total, event) => total + BigInt(String((event.data as { amount: unknown }).amount)), 0n);
}

/** The payment's row alone, for waits on a timer or a webhook. */
function stateOf(h: SimulationHarness, run: HistoryRun): Promise<Omit<Row, 'refunds'>> {
  return h.stack.prisma.payment.findUniqueOrThrow({
    where: { id: run.paymentId },
    select: { status: true, settled: true, amountRefunded: true },
  });
}

function rowOf(h: SimulationHarness, run: HistoryRun): Promise<Row> {
  return h.stack.prisma.payment.findUniqueOrThrow({
    where: { id: run.paymentId },
    select: { status: true, settled: true, amountRefunded: true, refunds: { select: { status: true } } },
  });
}

/**
 * Runs a request while an operator stands by: a payment that requires attention (its lookups
 * all unanswered) is looked up again on request (POST /v1/admin/payments/:id/lookup), as the
 * operators' queue is worked.
 */
async function operating<T>(
  h: SimulationHarness,
  run: HistoryRun,
  standBy: boolean,
  call: () => Promise<T>,
): Promise<T> {
  if (!standBy) return call();
  let done = false;
  const request = call().finally(() => {
    done = true;
  });
  const operator = (async () => {
    let askedAtMs = 0;
    for (const deadline = Date.now() + h.waitTimeoutMs; !done && Date.now() < deadline;) {
      await delay(pollIntervalMs * 2);
      const row = await h.stack.prisma.payment.findUnique({ where: { id: run.paymentId }, select: { status: true } });
      if (row?.status === 'requires_attention' && Date.now() - askedAtMs >= operatorPatienceMs) {
        askedAtMs = Date.now();
        await askOperator(h, run);
      }
    }
  })();
  const [result] = await Promise.all([request, operator]);
  return result;
}

async function askOperator(h: SimulationHarness, run: HistoryRun): Promise<void> {
  const response = await h.stack.app.inject({
    method: 'POST',
    url: `/v1/admin/payments/${run.paymentId}/lookup`,
    headers: bearer(h.stack.adminApiKey),
  });
  // 409: the payment went on by itself in the meantime.
  if (response.statusCode !== 202 && response.statusCode !== 409)
    fail(run, `operator lookup answered ${response.body}`);
  if (response.statusCode === 202) run.tally.operatorLookups += 1;
}

/** Waits until nothing is in doubt: no step under way, no attention required, no refund pending. */
async function settle(h: SimulationHarness, run: HistoryRun): Promise<Row> {
  let askedAtMs = 0;
  let settled: Row | undefined;
  await waitFor(h, run, 'the payment settled', async () => {
    const row = await rowOf(h, run);
    if (row.status === 'requires_attention' && Date.now() - askedAtMs >= operatorPatienceMs) {
      askedAtMs = Date.now();
      await askOperator(h, run);
    }
    const inDoubt = row.status === 'processing' || row.status === 'requires_attention';
    if (inDoubt || row.refunds.some((refund) => refund.status === 'pending')) return false;
    settled = row;
    return true;
  });
  return settled as Row;
}

function expectStatus(run: HistoryRun, row: { status: string }, status: string): void {
  if (row.status !== status) fail(run, `status ${row.status}, the model expects ${status}`);
}

function expectAnswer(run: HistoryRun, response: LightMyRequestResponse, answers: Answer[]): void {
  const code = response.statusCode >= 400 ? response.json<{ error?: { code?: string } }>().error?.code : undefined;
  const expected = answers.some(
    (answer) => answer.status === response.statusCode && (!answer.code || answer.code === code),
  );
  if (!expected) {
    fail(
      run,
      `answered ${response.statusCode} ${response.body.slice(0, 300)}, the model expects ${JSON.stringify(answers)}`,
    );
  }
}

async function waitFor(
  h: SimulationHarness,
  run: HistoryRun,
  what: string,
  done: () => Promise<boolean>,
  intervalMs = pollIntervalMs,
): Promise<void> {
  const deadline = Date.now() + h.waitTimeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) fail(run, `waited ${h.waitTimeoutMs} ms for ${what}`);
    await delay(intervalMs);
  }
}

function fail(run: HistoryRun, message: string): never {
  throw new SimulationFailure(message, run);
}
