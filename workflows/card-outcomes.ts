import { ApplicationFailure } from '@temporalio/workflow';
import type { ErrorCode } from '../src/domain/errors.ts';
import type { StepAttempt, StepLookup } from '../src/domain/outcome-lookup.ts';
import type { PaymentView, RefundView } from '../src/domain/payment-view.ts';
import type { LedgerStep } from '../src/domain/ledger-step.ts';
import type { ProviderCharge, ProviderName } from '../src/providers/provider.ts';
import { businessFailure } from './failures.ts';
import { resolveUnknown, type LookupHost } from './outcome-lookup.ts';
import { cardLookups, cardSteps } from './payment-activities.ts';

// The card steps of a payment under the lookup policy (workflows/outcome-lookup.ts). Each step
// is tried once; when its answer never came, the payment records `payment.outcome_unknown`
// (for operators), shows the step as under way (`processing`, or a `pending` refund), and goes
// on from what the provider did. A step found not made is recorded as
// `payment.outcome_resolved` and reported to its caller like a provider that did not answer.

/** What the caller of a step that was not made is told: our own words, never provider text. */
function notMade(message: string, code: ErrorCode = 'provider_unavailable'): ApplicationFailure {
  return ApplicationFailure.create({ type: code, message, nonRetryable: true });
}

/**
 * What a card step needs of the payment's run (PaymentRun, workflows/payment-run.ts, which calls
 * these steps): its view, its transitions and its lookups. Declared here so the two files do not import each other.
 */
export interface CardRun extends LookupHost {
  readonly view: PaymentView;
  transition(
    type: string,
    changes: Partial<PaymentView>,
    data?: Record<string, unknown>,
    effects?: { ledger?: LedgerStep; refund?: RefundView },
  ): Promise<{ transactionId: string | null; recordedAtMs: number }>;
}

/** The charge's identity at its provider; only card payments past authorization have one. */
function chargeOf(run: CardRun): { paymentId: string; provider: ProviderName; chargeId: string } {
  const { id, provider, providerChargeId } = run.view;
  if (!provider || !providerChargeId) throw new Error(`payment ${id} has no provider charge`);
  return { paymentId: id, provider, chargeId: providerChargeId };
}

/** A capture or void lookup: the charge as it is now, in the state the step leads to or not. */
async function chargeReachedStatus(
  run: CardRun,
  status: ProviderCharge['status'],
  stillBefore: ProviderCharge['status'],
): Promise<StepLookup<ProviderCharge>> {
  const reading = await cardLookups.readCardCharge(chargeOf(run));
  if (reading.found === 'unknown') return reading;
  if (reading.charge.status === status) return { found: 'done', value: reading.charge };
  if (reading.charge.status === stillBefore) return { found: 'not_done' };
  // Neither (a charge voided while we captured, say): an operator has to look.
  return { found: 'unknown', reason: `charge is ${reading.charge.status}` };
}

export interface CardAuthorization {
  paymentId: string;
  amount: bigint;
  currency: string;
  token: string;
  capture: boolean;
  provider?: ProviderName | undefined;
}

/** Authorizes (and captures, when automatic); a decline or a charge never made is thrown typed. */
export async function authorizeCard(run: CardRun, request: CardAuthorization): Promise<ProviderCharge> {
  const attempt = await cardSteps.tryAuthorizeCard(request);
  if (attempt.outcome === 'done') return attempt.value;
  const { provider } = attempt;
  await run.transition('payment.outcome_unknown', { provider }, facts('authorize', attempt));
  const resolution = await resolveUnknown(run, {
    facts: { step: 'authorize', provider },
    notDoneEnds: true,
    lookUp: () => cardLookups.lookUpCardCharge({ paymentId: request.paymentId, provider }),
    resend: () => cardSteps.tryAuthorizeCard({ ...request, provider }),
  });
  if (resolution.kind === 'done') return resolution.value;
  if (resolution.kind === 'declined') throw notMade('The card was declined.', resolution.code);
  throw notMade('The card processor has no charge for this payment.');
}

/** Captures at the provider; back in requires_capture, and thrown, when the capture was not made. */
export async function captureCard(run: CardRun, amount: bigint): Promise<void> {
  const input = { ...chargeOf(run), amount };
  const attempt = await cardSteps.tryCaptureCard(input);
  if (attempt.outcome === 'done') return;
  await run.transition('payment.outcome_unknown', { status: 'processing' }, { ...facts('capture', attempt), amount });
  const resolution = await resolveUnknown(run, {
    facts: { step: 'capture', provider: input.provider },
    notDoneEnds: true,
    lookUp: () => chargeReachedStatus(run, 'captured', 'authorized'),
    resend: () => cardSteps.tryCaptureCard(input),
  });
  if (resolution.kind === 'done') return;
  await run.transition(
    'payment.outcome_resolved',
    { status: 'requires_capture' },
    { step: 'capture', outcome: 'not_made' },
  );
  throw notMade('The card processor did not capture the payment. It can be captured again.');
}

/** Voids the authorization; it has to happen, so only an operator can end a void left unknown. */
export async function voidCard(run: CardRun): Promise<void> {
  const input = chargeOf(run);
  let attempt: StepAttempt<ProviderCharge>;
  try {
    attempt = await cardSteps.tryVoidCard(input);
  } catch (error) {
    // A provider that kept turning the void away: the lookups and their resends go on with it.
    const failure = businessFailure(error);
    if (failure?.type !== 'provider_unavailable') throw error;
    attempt = { outcome: 'unknown', provider: input.provider, reason: failure.message };
  }
  if (attempt.outcome === 'done') return;
  await run.transition('payment.outcome_unknown', { status: 'processing' }, facts('void', attempt));
  const resolution = await resolveUnknown(run, {
    facts: { step: 'void', provider: input.provider },
    notDoneEnds: false,
    lookUp: () => chargeReachedStatus(run, 'voided', 'authorized'),
    resend: () => cardSteps.tryVoidCard(input),
  });
  if (resolution.kind !== 'done') throw new Error(`a void resolved as ${resolution.kind}`);
}

/**
 * Refunds at the provider and returns the provider's refund id. While the answer is unknown
 * the refund is recorded as `pending`; a refund found not made is recorded `failed` and thrown.
 */
export async function refundCard(run: CardRun, pending: RefundView): Promise<string> {
  const input = { ...chargeOf(run), refundId: pending.id, amount: pending.amount };
  const attempt = await cardSteps.tryRefundCard(input);
  if (attempt.outcome === 'done') return attempt.value.refundId;
  const { view } = run;
  const recorded = await run.transition(
    'payment.outcome_unknown',
    { refunds: [...view.refunds, pending] },
    { ...facts('refund', attempt), refund_id: pending.id, amount: pending.amount },
    { refund: pending },
  );
  pending.createdAt = new Date(recorded.recordedAtMs).toISOString();
  const resolution = await resolveUnknown(run, {
    facts: { step: 'refund', provider: input.provider, refund_id: pending.id },
    notDoneEnds: true,
    lookUp: () => cardLookups.lookUpCardRefund(input),
    resend: () => cardSteps.tryRefundCard(input),
  });
  if (resolution.kind === 'done') return resolution.value.refundId;
  const failed: RefundView = { ...pending, status: 'failed' };
  await run.transition(
    'payment.outcome_resolved',
    { status: 'succeeded', refunds: view.refunds.map((refund) => (refund.id === failed.id ? failed : refund)) },
    { step: 'refund', refund_id: failed.id, outcome: 'not_made' },
    { refund: failed },
  );
  throw notMade('The card processor did not make the refund. Nothing was refunded.');
}

/** The facts of an unknown outcome, for operators (payment_events; never in the public timeline). */
function facts(step: string, attempt: Extract<StepAttempt<unknown>, { outcome: 'unknown' }>) {
  return { step, provider: attempt.provider, reason: attempt.reason };
}
