import { Type, type Static } from 'typebox';
import { toJsonAmount } from '../domain/money.ts';
import { isPayoutStatus, type PayoutStatus } from '../domain/payout-state.ts';

// The one public shape of a payout: the POST answer, GET /v1/payouts(/:id) and the
// `data.object` of payout.* events. The provider, its payout id and the merchant stay inside.

export const Payout = Type.Object({
  id: Type.String(),
  object: Type.Literal('payout'),
  amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  currency: Type.String(),
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('in_transit'),
    Type.Literal('paid'),
    Type.Literal('failed'),
  ]),
  /** Started by the payout schedule (true) or by POST /v1/payouts (false). */
  automatic: Type.Boolean(),
  description: Type.Union([Type.String(), Type.Null()]),
  failure_code: Type.Union([Type.String(), Type.Null()]),
  failure_message: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});
export type Payout = Static<typeof Payout>;

/** A `payouts` row, or the workflow's PayoutView: what the public shape is made from. */
export interface PayoutFacts {
  id: string;
  amount: bigint;
  currency: string;
  status: string;
  automatic: boolean;
  description: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: Date | string;
}

function statusOf(status: string): PayoutStatus {
  if (!isPayoutStatus(status)) throw new Error(`payout status ${status} is not a public one`);
  return status;
}

export function presentPayout(payout: PayoutFacts): Payout {
  return {
    id: payout.id,
    object: 'payout',
    amount: toJsonAmount(payout.amount),
    currency: payout.currency,
    status: statusOf(payout.status),
    automatic: payout.automatic,
    description: payout.description,
    failure_code: payout.failureCode,
    failure_message: payout.failureMessage,
    created_at: typeof payout.createdAt === 'string' ? payout.createdAt : payout.createdAt.toISOString(),
  };
}
