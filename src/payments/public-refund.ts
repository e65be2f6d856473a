import { Type, type Static } from 'typebox';
import { toJsonAmount } from '../domain/money.ts';

// The one public shape of a refund: the POST answer, GET, the payment's `refunds` and the
// `data.object` of refund.* events are all this, so a merchant sees one refund one way.

export const Refund = Type.Object({
  id: Type.String(),
  object: Type.Literal('refund'),
  payment_id: Type.String(),
  amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  status: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});
export type Refund = Static<typeof Refund>;

/** What a refund is made of, whether read from the `refunds` table or from the workflow's view. */
export interface RefundFacts {
  id: string;
  paymentId: string;
  amount: bigint;
  status: string;
  reason: string | null;
  createdAt: Date | string;
}

export const isoInstant = (at: Date | string): string => (typeof at === 'string' ? at : at.toISOString());

export function presentRefund(refund: RefundFacts): Refund {
  return {
    id: refund.id,
    object: 'refund',
    payment_id: refund.paymentId,
    amount: toJsonAmount(refund.amount),
    status: refund.status,
    reason: refund.reason,
    created_at: isoInstant(refund.createdAt),
  };
}
