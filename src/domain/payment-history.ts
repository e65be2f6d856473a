// A payment as it was at a past instant, folded from its append-only events (payment_events):
// GET /v1/payments/:id?at=. Pure: the caller loads the events recorded by that instant.
//
// The events say what changed (a status, a captured amount and its fee, a refund's id and
// amount, the settlement); what a payment was created with, and the facts a step brought that
// never change afterwards, come from its row as `PaymentOrigin`:
// - the card's brand, last 4 and provider, known once the card was authorized; they show from
//   the transition that followed the authorization (requires_capture or succeeded) on. A
//   payment that never got that far shows its row's provider throughout: the one requested,
//   if any, and it never changed.
// - a failure's message, written with the failure (failed is final);
// - each refund's reason, status and creation time (the refund row, written with its event).

export interface PaymentOrigin {
  id: string;
  amount: bigint;
  currency: string;
  captureMethod: string;
  sourceType: string;
  walletAccountId: string | null;
  customer: string | null;
  description: string | null;
  metadata: unknown;
  createdAt: Date;
  provider: string | null;
  cardBrand: string | null;
  cardLast4: string | null;
  failureMessage: string | null;
}

export interface RecordedRefund {
  id: string;
  paymentId: string;
  amount: bigint;
  reason: string | null;
  status: string;
  createdAt: Date;
}

export interface RecordedPaymentEvent {
  version: number;
  type: string;
  data: unknown;
  createdAt: Date;
}

/** The payment at that instant, in the facts its public shape is made of (presentPayment). */
export interface PaymentAsOf {
  id: string;
  status: string;
  amount: bigint;
  currency: string;
  captureMethod: string;
  amountCapturable: bigint;
  amountCaptured: bigint;
  amountRefunded: bigint;
  fee: bigint | null;
  netAmount: bigint | null;
  sourceType: string;
  provider: string | null;
  cardBrand: string | null;
  cardLast4: string | null;
  walletAccountId: string | null;
  customer: string | null;
  description: string | null;
  metadata: unknown;
  failureCode: string | null;
  failureMessage: string | null;
  cancellationReason: string | null;
  settled: boolean;
  createdAt: Date;
  refunds: RecordedRefund[];
}

/** Transitions that change nothing a merchant sees (a dispute's money is in the ledger). */
const invisibleTransitions: ReadonlySet<string> = new Set([
  'payment.created',
  'payment.dispute_created',
  'orphan_release_failed',
  'payment.orphan_release_failed',
]);

/** Amounts as the events hold them: JSON integers, or digit strings (the first workflow version). */
function amountOf(data: Record<string, unknown>, key: string): bigint {
  const value = data[key];
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new Error(`payment event amount ${key} is ${JSON.stringify(value)}`);
}

function textOf(data: Record<string, unknown>, key: string): string {
  const value = data[key];
  if (typeof value !== 'string') throw new Error(`payment event fact ${key} is ${JSON.stringify(value)}`);
  return value;
}

function opening(origin: PaymentOrigin): PaymentAsOf {
  // Only a payment that never reached an authorization can show its provider from the start.
  const neverAuthorized = origin.cardBrand === null;
  return {
    id: origin.id,
    status: 'processing',
    amount: origin.amount,
    currency: origin.currency,
    captureMethod: origin.captureMethod,
    amountCapturable: 0n,
    amountCaptured: 0n,
    amountRefunded: 0n,
    fee: null,
    netAmount: null,
    sourceType: origin.sourceType,
    provider: neverAuthorized ? origin.provider : null,
    cardBrand: null,
    cardLast4: null,
    walletAccountId: origin.walletAccountId,
    customer: origin.customer,
    description: origin.description,
    metadata: origin.metadata,
    failureCode: null,
    failureMessage: null,
    cancellationReason: null,
    settled: false,
    createdAt: origin.createdAt,
    refunds: [],
  };
}

function authorized(payment: PaymentAsOf, origin: PaymentOrigin): void {
  Object.assign(payment, { provider: origin.provider, cardBrand: origin.cardBrand, cardLast4: origin.cardLast4 });
}

function apply(
  payment: PaymentAsOf,
  event: RecordedPaymentEvent,
  origin: PaymentOrigin,
  refunds: ReadonlyMap<string, RecordedRefund>,
): void {
  const data = (event.data ?? {}) as Record<string, unknown>;
  switch (event.type) {
    case 'payment.requires_review':
      payment.status = 'requires_review';
      return;
    case 'payment.review_approved':
      payment.status = 'processing';
      return;
    case 'payment.requires_capture':
      Object.assign(payment, { status: 'requires_capture', amountCapturable: payment.amount });
      authorized(payment, origin);
      return;
    case 'payment.succeeded': {
      const captured = amountOf(data, 'amount');
      const fee = amountOf(data, 'fee');
      Object.assign(payment, {
        status: 'succeeded',
        amountCapturable: 0n,
        amountCaptured: captured,
        fee,
        netAmount: captured - fee,
      });
      authorized(payment, origin);
      return;
    }
    case 'payment.failed':
      Object.assign(payment, {
        status: 'failed',
        amountCapturable: 0n,
        failureCode: textOf(data, 'code'),
        failureMessage: origin.failureMessage,
      });
      return;
    case 'payment.canceled':
      Object.assign(payment, { status: 'canceled', amountCapturable: 0n, cancellationReason: textOf(data, 'reason') });
      return;
    case 'refund.succeeded': {
      const id = textOf(data, 'refund_id');
      const amount = amountOf(data, 'amount');
      payment.amountRefunded += amount;
      // A refund whose outcome was unknown is listed already, as pending: it is the same one.
      payment.refunds = payment.refunds.filter((refund) => refund.id !== id);
      // Only a succeeded payment refunds; a refund in doubt that needed an operator ends here.
      if (payment.status === 'requires_attention') payment.status = 'succeeded';
      payment.refunds.push(refunds.get(id) ?? refundAt(payment, id, amount, 'succeeded', event));
      return;
    }
    case 'payment.outcome_unknown':
      outcomeUnknown(payment, data, event, refunds);
      return;
    case 'payment.outcome_resolved':
      outcomeResolved(payment, data);
      return;
    case 'payment.attention_required':
      payment.status = 'requires_attention';
      return;
    case 'payment.settled':
      payment.settled = true;
      return;
    default:
      // A transition this fold does not know would silently answer a wrong past: refuse it.
      if (!invisibleTransitions.has(event.type)) throw new Error(`payment event type ${event.type} is not folded`);
  }
}

function refundAt(
  payment: PaymentAsOf,
  id: string,
  amount: bigint,
  status: string,
  event: RecordedPaymentEvent,
): RecordedRefund {
  return { id, paymentId: payment.id, amount, reason: null, status, createdAt: event.createdAt };
}

/** A step sent whose answer never came (workflows/card-outcomes.ts): what shows meanwhile. */
function outcomeUnknown(
  payment: PaymentAsOf,
  data: Record<string, unknown>,
  event: RecordedPaymentEvent,
  refunds: ReadonlyMap<string, RecordedRefund>,
): void {
  const step = textOf(data, 'step');
  if (step === 'capture' || step === 'void') payment.status = 'processing';
  if (step === 'refund') {
    const id = textOf(data, 'refund_id');
    const known = refunds.get(id);
    const amount = known?.amount ?? amountOf(data, 'amount');
    payment.refunds.push({ ...(known ?? refundAt(payment, id, amount, 'pending', event)), status: 'pending' });
  }
}

/** A step looked up and found not made: a capture can be sent again, a refund failed. */
function outcomeResolved(payment: PaymentAsOf, data: Record<string, unknown>): void {
  const step = textOf(data, 'step');
  if (step === 'capture') payment.status = 'requires_capture';
  if (step === 'refund') {
    const id = textOf(data, 'refund_id');
    payment.status = 'succeeded';
    payment.refunds = payment.refunds.map((refund) => (refund.id === id ? { ...refund, status: 'failed' } : refund));
  }
}

/**
 * The payment after its events in version order (those recorded by the instant asked for).
 * Refunds are listed as the read model lists them: by creation time, then id.
 */
export function foldPayment(
  origin: PaymentOrigin,
  events: readonly RecordedPaymentEvent[],
  refunds: readonly RecordedRefund[],
): PaymentAsOf {
  const payment = opening(origin);
  const refundsById = new Map(refunds.map((refund) => [refund.id, refund]));
  const inOrder = [...events].sort((a, b) => a.version - b.version);
  for (const event of inOrder) apply(payment, event, origin, refundsById);
  payment.refunds.sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return payment;
}
