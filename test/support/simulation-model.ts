import { feeFor, refundedFeeShare, type FeeSchedule } from '../../src/domain/fees.ts';
import type {
  AmountSpec,
  CardToken,
  LostAnswer,
  PaymentHistory,
  ProviderName,
  SimulationCurrency,
  Step,
} from './simulation-schedule.ts';

// The payment state machine as the simulation expects it to behave (README, Payments): from a
// generated history, what each step must answer and what the payment, the provider's charge and
// the ledger must hold at the end. Pure. Fee arithmetic is the domain's own (src/domain/fees.ts,
// property-tested by itself); everything else (which statuses allow what, which answers, which
// amounts move where) is written here again, independently of the workflow.
//
// Money the provider moves on its own (refunds from its dashboard, disputes) reaches the payment
// by webhook, late and in any order: the model keeps it as not yet shown until the runner has
// seen it arrive (a sync). A step whose answer would depend on whether it has arrived asks for a
// sync first, so every prediction is exact. Such money is generated within bounds that keep the
// merchant's balance from going negative in any order of arrival (refunds and disputes together
// at most the net, once a dispute is involved).

export type ModelStatus = 'requires_review' | 'requires_capture' | 'succeeded' | 'failed' | 'canceled';
export type ChargeStatus = 'none' | 'declined' | 'authorized' | 'captured' | 'voided';

export interface SimulationRules {
  /** At or above: reviewed; at or above the block amount: blocked (every simulated currency). */
  reviewAboveMinor: bigint;
  blockAboveMinor: bigint;
  blockedTokens: readonly string[];
  fee: FeeSchedule;
  /** The provider a payment in this currency goes to first. */
  firstProvider: Record<SimulationCurrency, ProviderName>;
  /** Lookups of a step whose answer was lost before the payment requires attention. */
  lookups: number;
}

interface ProviderMoney {
  amount: bigint;
  /** The payment has it (the runner saw it arrive). */
  shown: boolean;
}

export interface PaymentModel {
  status: ModelStatus;
  amount: bigint;
  currency: SimulationCurrency;
  provider: ProviderName;
  charge: ChargeStatus;
  captured: bigint;
  /** Refunds we made, in order. */
  ourRefunds: bigint[];
  /** Refunds of ours that the provider never made (recorded failed). */
  failedRefunds: number;
  providerRefunds: ProviderMoney[];
  disputes: ProviderMoney[];
  failureCode: string | null;
  cancellationReason: string | null;
}

export interface Answer {
  status: number;
  code?: string;
}

export type PlannedStep =
  | { kind: 'skip'; why: string }
  /** Provider money not shown yet would change the answer: wait for it, then plan again. */
  | { kind: 'sync_first' }
  | {
      kind: 'api';
      /** The amount to send; undefined: none (all that is left). */
      amount: bigint | undefined;
      answers: Answer[];
      next: PaymentModel;
      /** The step calls the provider: a lost answer planned for it applies. */
      reachesProvider: boolean;
    }
  | { kind: 'provider'; amount: bigint; next: PaymentModel }
  | { kind: 'redeliver' }
  | { kind: 'sync'; next: PaymentModel };

const sum = (amounts: readonly bigint[]) => amounts.reduce((total, amount) => total + amount, 0n);
const amountsOf = (money: readonly ProviderMoney[], all: boolean) =>
  sum(money.filter((item) => all || item.shown).map((item) => item.amount));
const unexpectedState: Answer = { status: 409, code: 'payment_unexpected_state' };
const tooLarge: Answer = { status: 400, code: 'amount_too_large' };
/** Finished late: the API answered with the payment as it was, the runner waits for the rest. */
const accepted: Answer = { status: 202 };

function shareOf(amount: bigint, permille: number): bigint {
  const share = (amount * BigInt(permille)) / 1_000n;
  return share > 0n ? share : 1n;
}

export function feeOf(model: PaymentModel, rules: SimulationRules): bigint {
  return feeFor(model.captured, model.currency, rules.fee);
}

/** Refunded in all: ours and the provider's (shown or not, with `all`). */
export function refundedOf(model: PaymentModel, all = true): bigint {
  return sum(model.ourRefunds) + amountsOf(model.providerRefunds, all);
}

export function disputedOf(model: PaymentModel, all = true): bigint {
  return amountsOf(model.disputes, all);
}

/** What may still be refunded, as the payment sees it (`all`: once the provider's money arrived). */
function remaining(model: PaymentModel, all: boolean): bigint {
  return model.captured - refundedOf(model, all) - disputedOf(model, all);
}

/** The most that can still leave the merchant in any order of arrival; with a dispute, within the net. */
function safeBound(model: PaymentModel, rules: SimulationRules, withDispute: boolean): bigint {
  const rest = remaining(model, true);
  if (!withDispute && model.disputes.length === 0) return rest;
  const withinNet = model.captured - feeOf(model, rules) - refundedOf(model) - disputedOf(model);
  return withinNet < rest ? withinNet : rest;
}

function hasUnshown(model: PaymentModel): boolean {
  return [...model.providerRefunds, ...model.disputes].some((item) => !item.shown);
}

/** The payment right after its creation (before any step), and whether creating it authorizes. */
export function created(history: PaymentHistory, rules: SimulationRules): { model: PaymentModel; authorizes: boolean } {
  const model: PaymentModel = {
    status: 'requires_capture',
    amount: BigInt(history.amount),
    currency: history.currency,
    provider: history.provider ?? rules.firstProvider[history.currency],
    charge: 'none',
    captured: 0n,
    ourRefunds: [],
    failedRefunds: 0,
    providerRefunds: [],
    disputes: [],
    failureCode: null,
    cancellationReason: null,
  };
  if (rules.blockedTokens.includes(history.token) || model.amount >= rules.blockAboveMinor) {
    return { model: { ...model, status: 'failed', failureCode: 'payment_blocked' }, authorizes: false };
  }
  if (model.amount >= rules.reviewAboveMinor)
    return { model: { ...model, status: 'requires_review' }, authorizes: false };
  return { model: authorized(model, history, rules), authorizes: true };
}

const declines: Partial<Record<CardToken, string>> = {
  tok_chargeDeclined: 'card_declined',
  tok_insufficientFunds: 'insufficient_funds',
};

/** The authorization's outcome (at creation, or on approval after review). */
function authorized(model: PaymentModel, history: PaymentHistory, rules: SimulationRules): PaymentModel {
  // Never reached the provider, and no lookup could tell before the last: reported as not made.
  if (notMade('authorize', history.authorizeLost, history, model.provider, rules) || history.token === 'tok_timeout') {
    return { ...model, status: 'failed', failureCode: 'provider_unavailable' };
  }
  const declined = declines[history.token];
  if (declined) return { ...model, status: 'failed', charge: 'declined', failureCode: declined };
  if (history.captureMethod === 'manual') return { ...model, status: 'requires_capture', charge: 'authorized' };
  return { ...model, status: 'succeeded', charge: 'captured', captured: model.amount };
}

/** A history left to its timers: the review times out, the authorization expires (voided). */
export function afterTimers(model: PaymentModel): PaymentModel {
  if (model.status === 'requires_review') return { ...model, status: 'canceled', cancellationReason: 'review_timeout' };
  if (model.status === 'requires_capture') {
    return { ...model, status: 'canceled', charge: 'voided', cancellationReason: 'authorization_expired' };
  }
  return model;
}

/** The provider steps a lost answer can hit, with the request that carries it and its lookups. */
export type LostStep = 'authorize' | 'capture' | 'void' | 'refund';

/** The activity that sends each step, and the one that looks it up (activities/card-outcomes.ts). */
const stepActivities: Record<LostStep, { request: string; lookup: string }> = {
  authorize: { request: 'tryAuthorizeCard', lookup: 'lookUpCardCharge' },
  capture: { request: 'tryCaptureCard', lookup: 'readCardCharge' },
  void: { request: 'tryVoidCard', lookup: 'readCardCharge' },
  refund: { request: 'tryRefundCard', lookup: 'lookUpCardRefund' },
};

/** A lost answer as it plays out for one step of one history. */
export interface AppliedLoss {
  processed: boolean;
  /** Every lookup goes unanswered: the payment requires attention until an operator's lookup. */
  attention: boolean;
  /** Requests the lookups make before the last one: one each, and again for each failed attempt. */
  lookupRequests: number;
}

/**
 * The lost answer as it applies to a step at `provider`. An attempt of the step's activity
 * failed after it ran sends the request again with its key, so the provider's answer comes back
 * after all: no lookup. A PayPal capture reads the authorization first, the same request as its
 * lookups, so those cannot be made to time out alone: no attention there either.
 */
export function lostAnswerOf(
  step: LostStep,
  lost: LostAnswer | undefined,
  history: PaymentHistory,
  provider: ProviderName,
  rules: SimulationRules,
): AppliedLoss | undefined {
  if (!lost) return undefined;
  const afterFault = (activity: string) =>
    history.faults.find((fault) => fault.activity === activity && fault.when === 'after');
  const { request, lookup } = stepActivities[step];
  const absorbed = afterFault(request) !== undefined;
  const attention = lost.attention && !absorbed && !(step === 'capture' && provider === 'paypal');
  // tok_processingError's first authorization fails at the provider: processed, nothing made.
  const madeNothing = step === 'authorize' && history.token === 'tok_processingError';
  return {
    processed: lost.processed && !madeNothing,
    attention,
    lookupRequests: rules.lookups * (1 + (afterFault(lookup)?.attempts ?? 0)),
  };
}

/** Lost before the provider, and every lookup unanswered: the operator's lookup finds it not made. */
function notMade(
  step: LostStep,
  lost: LostAnswer | undefined,
  history: PaymentHistory,
  provider: ProviderName,
  rules: SimulationRules,
): boolean {
  const applied = lostAnswerOf(step, lost, history, provider, rules);
  return applied !== undefined && !applied.processed && applied.attention;
}

export function planStep(
  model: PaymentModel,
  step: Step,
  history: PaymentHistory,
  rules: SimulationRules,
): PlannedStep {
  switch (step.kind) {
    case 'capture':
      return planCapture(model, step, history, rules);
    case 'cancel':
      return planCancel(model);
    case 'approve':
      if (model.status !== 'requires_review') return refused(model, undefined);
      return api(
        undefined,
        [{ status: 200 }],
        authorized({ ...model, status: 'requires_capture' }, history, rules),
        true,
      );
    case 'reject':
      if (model.status !== 'requires_review') return refused(model, undefined);
      return api(undefined, [{ status: 200 }], { ...model, status: 'canceled', cancellationReason: 'review_rejected' });
    case 'refund':
      return planRefund(model, step, history, rules);
    case 'provider_refund':
    case 'dispute':
      return planProviderMoney(model, step, rules);
    case 'redeliver':
      return model.charge === 'none' ? { kind: 'skip', why: 'no charge to announce' } : { kind: 'redeliver' };
    case 'sync':
      return { kind: 'sync', next: shown(model) };
  }
}

/** Every provider refund and dispute shown on the payment. */
export function shown(model: PaymentModel): PaymentModel {
  const all = (money: ProviderMoney[]) => money.map((item) => ({ ...item, shown: true }));
  return { ...model, providerRefunds: all(model.providerRefunds), disputes: all(model.disputes) };
}

function api(amount: bigint | undefined, answers: Answer[], next: PaymentModel, reachesProvider = false): PlannedStep {
  return { kind: 'api', amount, answers: [...answers, accepted], next, reachesProvider };
}

/** Refused by the workflow's validator: nothing changes, nothing reaches the provider. */
function refused(model: PaymentModel, amount: bigint | undefined, answer: Answer = unexpectedState): PlannedStep {
  return { kind: 'api', amount, answers: [answer], next: model, reachesProvider: false };
}

function specAmount(spec: AmountSpec, of: bigint): bigint | undefined {
  if (spec.kind === 'all') return undefined;
  return spec.kind === 'part' ? shareOf(of, spec.permille) : of + BigInt(spec.extra);
}

function planCapture(
  model: PaymentModel,
  step: Extract<Step, { kind: 'capture' }>,
  history: PaymentHistory,
  rules: SimulationRules,
): PlannedStep {
  const amount = specAmount(step.amount, model.amount);
  if (model.status !== 'requires_capture') return refused(model, amount);
  if (amount !== undefined && amount > model.amount) return refused(model, amount, tooLarge);
  if (notMade('capture', step.lost, history, model.provider, rules)) {
    // Back to requires_capture; the capture call fails provider_unavailable unless it answered late.
    return api(amount, [{ status: 503, code: 'provider_unavailable' }], model, true);
  }
  const captured = amount ?? model.amount;
  return api(amount, [{ status: 200 }], { ...model, status: 'succeeded', charge: 'captured', captured }, true);
}

function planCancel(model: PaymentModel): PlannedStep {
  const canceled = { ...model, status: 'canceled' as const, cancellationReason: 'requested' };
  if (model.status === 'requires_review') return api(undefined, [{ status: 200 }], canceled);
  if (model.status !== 'requires_capture') return refused(model, undefined);
  // A void must happen: even one found not made is sent again until it is.
  return api(undefined, [{ status: 200 }], { ...canceled, charge: 'voided' }, true);
}

function planRefund(
  model: PaymentModel,
  step: Extract<Step, { kind: 'refund' }>,
  history: PaymentHistory,
  rules: SimulationRules,
): PlannedStep {
  const seen = remaining(model, false);
  if (model.status !== 'succeeded') return refused(model, specAmount(step.amount, 1n));
  if (step.amount.kind === 'over') {
    const amount = seen + BigInt(step.amount.extra);
    if (seen <= 0n) return refused(model, amount);
    // Whether the rest is already gone decides between 409 and 400.
    if (remaining(model, true) <= 0n) return { kind: 'sync_first' };
    return refused(model, amount, tooLarge);
  }
  if (step.amount.kind === 'all' && hasUnshown(model)) return { kind: 'sync_first' };
  const bound = safeBound(model, rules, false);
  if (bound <= 0n) {
    if (seen <= 0n) return refused(model, specAmount(step.amount, 1n));
    if (remaining(model, true) <= 0n) return { kind: 'sync_first' };
    return { kind: 'skip', why: 'a refund now could take the merchant below zero after its dispute' };
  }
  // With a dispute, even "all that is left" is sent as the amount that keeps the merchant whole.
  const amount =
    step.amount.kind === 'part'
      ? shareOf(bound, step.amount.permille)
      : model.disputes.length > 0 || bound < seen
        ? bound
        : undefined;
  if (notMade('refund', step.lost, history, model.provider, rules)) {
    return api(
      amount,
      [{ status: 503, code: 'provider_unavailable' }],
      { ...model, failedRefunds: model.failedRefunds + 1 },
      true,
    );
  }
  const refund = amount ?? seen;
  return api(amount, [{ status: 201 }], { ...model, ourRefunds: [...model.ourRefunds, refund] }, true);
}

function planProviderMoney(
  model: PaymentModel,
  step: Extract<Step, { kind: 'provider_refund' | 'dispute' }>,
  rules: SimulationRules,
): PlannedStep {
  if (model.status !== 'succeeded' || model.charge !== 'captured') {
    return { kind: 'skip', why: 'nothing captured at the provider' };
  }
  const amount = (safeBound(model, rules, step.kind === 'dispute') * BigInt(step.permille)) / 1_000n;
  if (amount <= 0n) return { kind: 'skip', why: 'nothing left to take within the bounds' };
  const added = { amount, shown: false };
  const next =
    step.kind === 'dispute'
      ? { ...model, disputes: [...model.disputes, added] }
      : { ...model, providerRefunds: [...model.providerRefunds, added] };
  return { kind: 'provider', amount, next };
}

/** What the payment, the provider's charge and the payment's ledger hold once everything arrived. */
export interface ExpectedOutcome {
  payment: {
    status: ModelStatus;
    amount_captured: number;
    amount_refunded: number;
    fee: number | null;
    net_amount: number | null;
    failure_code: string | null;
    cancellation_reason: string | null;
    settled: boolean;
  };
  /** Refund rows of each status: [least, most]. */
  refunds: { succeeded: [number, number]; failed: number };
  /** The one charge at the provider, or none. */
  charge: {
    provider: ProviderName;
    status: Exclude<ChargeStatus, 'none'>;
    amount: number;
    amount_captured: number;
    amount_refunded: number;
    disputed: number;
  } | null;
  /** Sums of the payment's ledger entries by account role. */
  ledger: { clearing: bigint; fees: bigint; pending: bigint; available: bigint; disputes: bigint };
  /** Ledger transactions of each kind: exact, or [least, most] where arrival order decides. */
  transactions: Record<'payment_capture' | 'refund' | 'dispute' | 'settlement', [number, number]>;
}

export function expectedOutcome(model: PaymentModel, rules: SimulationRules): ExpectedOutcome {
  const captured = model.captured;
  const fee = captured > 0n ? feeOf(model, rules) : 0n;
  const refunded = refundedOf(model);
  const disputed = disputedOf(model);
  const feeBack = refundedFeeShare(fee, model.currency, refunded, captured);
  const position = captured - fee - (refunded - feeBack) - disputed;
  const providerRefunds = model.providerRefunds.length;
  const ours = model.ourRefunds.length;
  // A provider's refunds arrive one by one (PayPal) or as running totals (Stripe), which can fold
  // several into one or split them around ours: any number of rows, the same money.
  const refundRows: [number, number] =
    model.provider === 'paypal'
      ? [ours + providerRefunds, ours + providerRefunds]
      : [ours + Math.min(providerRefunds, 1), providerRefunds > 0 ? Number.POSITIVE_INFINITY : ours];
  return {
    payment: {
      status: model.status,
      amount_captured: Number(captured),
      amount_refunded: Number(refunded),
      fee: captured > 0n ? Number(fee) : null,
      net_amount: captured > 0n ? Number(captured - fee) : null,
      failure_code: model.failureCode,
      cancellation_reason: model.cancellationReason,
      settled: model.status === 'succeeded',
    },
    refunds: { succeeded: refundRows, failed: model.failedRefunds },
    charge:
      model.charge === 'none'
        ? null
        : {
            provider: model.provider,
            status: model.charge,
            amount: Number(model.amount),
            amount_captured: Number(captured),
            amount_refunded: Number(refunded),
            disputed: Number(disputed),
          },
    ledger: {
      clearing: refunded - captured,
      fees: fee - feeBack,
      pending: 0n,
      available: position,
      disputes: disputed,
    },
    transactions: {
      payment_capture: captured > 0n ? [1, 1] : [0, 0],
      refund: refundRows,
      dispute: [model.disputes.length, model.disputes.length],
      // Moved at settlement: whatever the merchant still had pending then, if anything.
      settlement: captured === 0n ? [0, 0] : position > 0n ? [1, 1] : [0, 1],
    },
  };
}
