import type { CarefulClient } from './careful-client.ts';
import { between, weighted, type Random } from './seeded-random.ts';
import type { ClientFact } from './verdict.ts';

// The load of every scenario: card and wallet payments, automatic and manual capture, the
// manual ones captured (in full or in part) or canceled, successful ones refunded once or
// twice, each payment a careful client's sequence of requests, all of them in flight together
// while the scenario breaks something. Plans come from the seeded generator.

export type PaymentSource = { type: 'card'; token: string } | { type: 'wallet'; account_id: string };

export interface PaymentPlan {
  key: string;
  /** When, after the load starts, the payment is sent. */
  startAfterMs: number;
  source: PaymentSource;
  amount: number;
  captureMethod: 'automatic' | 'manual';
  /** A manual payment's next step once authorized. */
  then: { action: 'capture'; amount?: number } | { action: 'cancel' };
  /** Refund amounts, sent one after the other once the payment succeeded. */
  refunds: number[];
}

export interface LoadLimits {
  /** How long one payment may stay `processing` (or a refund `pending`) before the client stops waiting. */
  settleBudgetMs: number;
  /** Between two reads of a payment that is still at work. */
  pollIntervalMs: number;
  /** Rounds of an action answered 409 while the payment was busy. */
  maxActionRounds: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type PaymentBody = any;

export interface PaymentRun {
  plan: PaymentPlan;
  fact: ClientFact;
  /** What went differently from the plan, for the log (a decline is not a problem). */
  notes: string[];
}

/** Cards the simulator treats differently (README, _The provider simulator_). */
const cardTokens = [
  ['tok_visa', 70],
  ['tok_mastercard', 15],
  ['tok_chargeDeclined', 8],
  ['tok_processingError', 7],
] as const;

function planRefunds(random: Random, captured: number): number[] {
  const choice = weighted(random, [
    ['none', 50],
    ['part', 30],
    ['two parts', 10],
    ['all', 10],
  ] as const);
  const part = Math.max(1, Math.floor(captured / between(random, 3, 5)));
  if (choice === 'part') return [part];
  if (choice === 'two parts') return [part, part];
  if (choice === 'all') return [captured];
  return [];
}

export function planPayments(
  random: Random,
  count: number,
  wallets: readonly string[],
  windowMs: number,
): PaymentPlan[] {
  const runTag = Math.floor(random() * 1e9).toString(36);
  return Array.from({ length: count }, (_, index) => {
    const amount = between(random, 500, 20_000);
    const wallet = wallets.length > 0 && random() < 0.4 ? wallets[between(random, 0, wallets.length - 1)] : undefined;
    const source: PaymentSource = wallet
      ? { type: 'wallet', account_id: wallet }
      : { type: 'card', token: weighted(random, cardTokens) };
    const captureMethod = random() < 0.5 ? 'automatic' : 'manual';
    const partial = random() < 0.3 ? between(random, 100, amount) : undefined;
    const then =
      random() < 0.75
        ? { action: 'capture' as const, ...(partial === undefined ? {} : { amount: partial }) }
        : { action: 'cancel' as const };
    const captured = captureMethod === 'manual' && then.action === 'capture' ? (then.amount ?? amount) : amount;
    return {
      key: `chaos-${runTag}-${index}`,
      startAfterMs: Math.floor(random() * windowMs),
      source,
      amount,
      captureMethod,
      then,
      refunds: planRefunds(random, captured),
    };
  });
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What an answer showing the payment tells for certain. */
function learn(fact: ClientFact, payment: PaymentBody): void {
  if (payment?.status === 'succeeded' && fact.captured === undefined) fact.captured = BigInt(payment.amount_captured);
  if (payment?.status === 'canceled') fact.canceled = true;
}

/** Reads the payment until it leaves `processing` and has no refund pending; undefined past the budget. */
async function settled(client: CarefulClient, id: string, limits: LoadLimits): Promise<PaymentBody | undefined> {
  const deadline = Date.now() + limits.settleBudgetMs;
  for (;;) {
    const answer = await client.get(`/v1/payments/${id}`);
    const payment = answer.status === 200 ? answer.body : undefined;
    const busy =
      payment?.status === 'processing' ||
      (payment?.refunds ?? []).some((refund: { status: string }) => refund.status === 'pending');
    if (payment && !busy) return payment;
    if (Date.now() >= deadline) return undefined;
    await pause(limits.pollIntervalMs);
  }
}

const busyConflict = (answer: { status: number; body: PaymentBody }) =>
  answer.status === 409 && answer.body?.error?.code === 'payment_unexpected_state';

/** Captures or cancels a manual payment; a 409 while it is busy is sent again once it settles. */
async function finishAuthorization(client: CarefulClient, run: PaymentRun, id: string, limits: LoadLimits) {
  const { then, key } = run.plan;
  const path = `/v1/payments/${id}/${then.action}`;
  const body = then.action === 'capture' && then.amount !== undefined ? { amount: then.amount } : {};
  for (let round = 1; round <= limits.maxActionRounds; round++) {
    // A 409 is the definitive answer for its key (replayed to every retry with it): the next
    // round, after the payment settled, is a new request with a key of its own.
    const answer = await client.post(path, body, `${key}:${then.action}:${round}`);
    if (answer.status === 200) {
      learn(run.fact, answer.body);
      if (answer.body.status !== 'processing') return answer.body;
    }
    if (answer.status !== 200 && answer.status !== 202 && !busyConflict(answer)) {
      run.notes.push(`${then.action} answered ${answer.status} ${answer.body?.error?.code ?? ''}`);
    }
    const now = await settled(client, id, limits);
    if (!now) run.notes.push(`${then.action}: still busy after ${limits.settleBudgetMs} ms`);
    if (!now || now.status !== 'requires_capture') return now;
  }
  run.notes.push(`${then.action}: still requires_capture after ${limits.maxActionRounds} rounds`);
  return undefined;
}

async function refundAll(client: CarefulClient, run: PaymentRun, id: string, limits: LoadLimits): Promise<void> {
  for (const [index, amount] of run.plan.refunds.entries()) {
    for (let round = 1; round <= limits.maxActionRounds; round++) {
      const answer = await client.post(
        `/v1/payments/${id}/refunds`,
        { amount },
        `${run.plan.key}:refund:${index}:${round}`,
      );
      if (answer.status === 201 && answer.body.status === 'succeeded') run.fact.refunded += BigInt(amount);
      if (answer.status === 201 || answer.status === 202) break;
      if (!busyConflict(answer)) {
        run.notes.push(`refund ${index} answered ${answer.status} ${answer.body?.error?.code ?? ''}`);
        break;
      }
      if (!(await settled(client, id, limits))) return void run.notes.push(`refund ${index}: payment still busy`);
    }
    if (!(await settled(client, id, limits))) return void run.notes.push(`refund ${index}: still pending`);
  }
}

/** One payment as a careful client makes it: create, wait, capture or cancel, refund. */
export async function runPayment(client: CarefulClient, plan: PaymentPlan, limits: LoadLimits): Promise<PaymentRun> {
  const run: PaymentRun = { plan, fact: { idempotencyKey: plan.key, paymentIds: [], refunded: 0n }, notes: [] };
  await pause(plan.startAfterMs);
  const created = await client.post(
    '/v1/payments',
    { amount: plan.amount, currency: 'USD', source: plan.source, capture_method: plan.captureMethod },
    plan.key,
  );
  if (created.status !== 201 && created.status !== 202) {
    run.notes.push(`create answered ${created.status} after ${created.attempts} attempts`);
    return run;
  }
  const id: string = created.body.id;
  run.fact.paymentIds.push(id);
  learn(run.fact, created.body);
  let payment = await settled(client, id, limits);
  if (!payment) run.notes.push(`still processing after ${limits.settleBudgetMs} ms`);
  learn(run.fact, payment);
  if (payment?.status === 'requires_capture') payment = await finishAuthorization(client, run, id, limits);
  learn(run.fact, payment);
  if (payment?.status === 'succeeded') await refundAll(client, run, id, limits);
  return run;
}

/** Every payment of the plan at once (each from its start moment); resolves when all are done. */
export function runLoad(client: CarefulClient, plans: PaymentPlan[], limits: LoadLimits): Promise<PaymentRun[]> {
  return Promise.all(plans.map((plan) => runPayment(client, plan, limits)));
}
