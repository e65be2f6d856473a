import { Type, type Static } from 'typebox';
import { isAnnouncedPaymentTransition } from '../events/catalog.ts';
import { toJsonAmount } from '../domain/money.ts';

// A payment's timeline, GET /v1/payments/:id/events: its public transitions in order, each
// with the facts of that change (a risk block's rule, a capture's fee, a refund's id). It is a
// resource of its own rather than a field of the payment, so the payment (and every event that
// carries it) keeps a bounded size. Internal transitions and operator facts stay out.

export const PaymentTimelineEntry = Type.Object({
  type: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  data: Type.Record(Type.String(), Type.Unknown()),
});
export type PublicPaymentTimelineEntry = Static<typeof PaymentTimelineEntry>;

export const PaymentTimeline = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(PaymentTimelineEntry),
  has_more: Type.Boolean(),
});

/** The change facts each type shows; anything else the workflow recorded is for operators. */
const publicFacts: Readonly<Record<string, readonly string[]>> = {
  'payment.requires_review': ['rule'],
  'payment.failed': ['code', 'rule'],
  'payment.canceled': ['reason'],
  'payment.succeeded': ['amount', 'fee'],
  'payment.dispute_created': ['dispute_id', 'amount'],
  // Which step's outcome the provider could not tell (authorize, capture, void, refund), and
  // the refund's id for a refund.
  'payment.attention_required': ['step', 'refund_id'],
  'refund.succeeded': ['refund_id', 'amount', 'initiated_by'],
};

const amountFacts = new Set(['amount', 'fee']);

/** Amounts are JSON integers; rows written by the first workflow version hold them as digit strings. */
function publicFact(key: string, value: unknown): unknown {
  if (!amountFacts.has(key)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return toJsonAmount(BigInt(value));
  return value;
}

export interface PaymentEventFacts {
  type: string;
  data: unknown;
  createdAt: Date;
}

export function presentTimelineEntry(event: PaymentEventFacts): PublicPaymentTimelineEntry {
  const recorded = (event.data ?? {}) as Record<string, unknown>;
  const keys = (publicFacts[event.type] ?? []).filter((key) => recorded[key] !== undefined);
  return {
    type: event.type,
    created_at: event.createdAt.toISOString(),
    data: Object.fromEntries(keys.map((key) => [key, publicFact(key, recorded[key])])),
  };
}

/** The public entries of a payment's recorded events, oldest first. */
export function presentTimeline(events: readonly PaymentEventFacts[]): PublicPaymentTimelineEntry[] {
  return events.filter((event) => isAnnouncedPaymentTransition(event.type)).map(presentTimelineEntry);
}
