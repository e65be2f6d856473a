import { Type, type Static, type TSchema } from 'typebox';
import { toJsonAmount } from '../domain/money.ts';
import { isoInstant, presentRefund, Refund, type RefundFacts } from './public-refund.ts';
import { PaymentTimelineEntry, presentTimeline, type PaymentEventFacts } from './public-payment-timeline.ts';

// The one public shape of a payment: every payments route and the `data.object` of payment.*
// events are this, built from the read-model row or from the workflow's view alike, so an
// event shows exactly what GET /v1/payments/:id showed at that version. Internal facts (the
// provider's charge id, the card fingerprint, the version, disputes) stay out; the payment's
// timeline is its own resource (GET /v1/payments/:id/events), not a list growing inside it;
// `expand[]=events` adds it to an answer on request. A single payment carries its refunds; a
// list carries them only on `expand[]=refunds`, so a page stays bounded.

const nullable = <T extends TSchema>(type: T) => Type.Union([type, Type.Null()]);

export const Payment = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment'),
  status: Type.String(),
  amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  currency: Type.String(),
  amount_capturable: Type.Integer(),
  amount_captured: Type.Integer(),
  amount_refunded: Type.Integer(),
  refunded: Type.Boolean(),
  fee: nullable(Type.Integer()),
  net_amount: nullable(Type.Integer()),
  source: Type.Union([
    Type.Object({
      type: Type.Literal('card'),
      brand: nullable(Type.String()),
      last4: nullable(Type.String()),
      provider: nullable(Type.String()),
    }),
    Type.Object({ type: Type.Literal('wallet'), account_id: Type.String() }),
  ]),
  customer: nullable(Type.String()),
  description: nullable(Type.String()),
  metadata: nullable(Type.Record(Type.String(), Type.String())),
  capture_method: Type.String(),
  failure_code: nullable(Type.String()),
  failure_message: nullable(Type.String()),
  cancellation_reason: nullable(Type.String()),
  settled: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  refunds: Type.Optional(Type.Array(Refund)),
  events: Type.Optional(Type.Array(PaymentTimelineEntry)),
});
export type Payment = Static<typeof Payment>;

/** What a payment is made of: a `payments` row with its refunds, or the workflow's PaymentView. */
export interface PaymentFacts {
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
  createdAt: Date | string;
  refunds: readonly RefundFacts[];
}

const nullableAmount = (amount: bigint | null) => (amount === null ? null : toJsonAmount(amount));

function sourceOf(payment: PaymentFacts): Payment['source'] {
  if (payment.sourceType === 'wallet') return { type: 'wallet', account_id: payment.walletAccountId ?? '' };
  return { type: 'card', brand: payment.cardBrand, last4: payment.cardLast4, provider: payment.provider };
}

/** What an answer adds to the payment: its refunds (by default), its timeline (on request). */
export interface PaymentExpansion {
  refunds: boolean;
  events?: readonly PaymentEventFacts[] | undefined;
}

export function presentPayment(payment: PaymentFacts, expansion: PaymentExpansion = { refunds: true }): Payment {
  const shown: Payment = {
    id: payment.id,
    object: 'payment',
    status: payment.status,
    amount: toJsonAmount(payment.amount),
    currency: payment.currency,
    amount_capturable: toJsonAmount(payment.amountCapturable),
    amount_captured: toJsonAmount(payment.amountCaptured),
    amount_refunded: toJsonAmount(payment.amountRefunded),
    refunded: payment.amountCaptured > 0n && payment.amountRefunded === payment.amountCaptured,
    fee: nullableAmount(payment.fee),
    net_amount: nullableAmount(payment.netAmount),
    source: sourceOf(payment),
    customer: payment.customer,
    description: payment.description,
    metadata: (payment.metadata as Record<string, string> | null) ?? null,
    capture_method: payment.captureMethod,
    failure_code: payment.failureCode,
    failure_message: payment.failureMessage,
    cancellation_reason: payment.cancellationReason,
    settled: payment.settled,
    created_at: isoInstant(payment.createdAt),
  };
  if (expansion.refunds) shown.refunds = payment.refunds.map(presentRefund);
  if (expansion.events) shown.events = presentTimeline(expansion.events);
  return shown;
}
