import { Type, type Static } from 'typebox';
import { toJsonAmount } from '../domain/money.ts';

// The one public shape of a deposit: the POST answer, GET /v1/deposits/:id and the
// `data.object` of deposit.succeeded.

export const Deposit = Type.Object({
  id: Type.String(),
  object: Type.Literal('deposit'),
  account_id: Type.String(),
  amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  currency: Type.String(),
  reference: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded')]),
  transaction_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});
export type Deposit = Static<typeof Deposit>;

/** A `deposits` row or the deposit workflow's answer. */
export interface DepositFacts {
  id: string;
  accountId: string;
  amount: bigint;
  currency: string;
  reference: string;
  /** `pending` only in the API's answer while the workflow still runs; a row is a succeeded deposit. */
  status: string;
  transactionId: string | null;
  createdAt: Date | string;
}

function statusOf(status: string): Deposit['status'] {
  if (status !== 'pending' && status !== 'succeeded') throw new Error(`deposit status ${status} is not a public one`);
  return status;
}

export function presentDeposit(deposit: DepositFacts): Deposit {
  return {
    id: deposit.id,
    object: 'deposit',
    account_id: deposit.accountId,
    amount: toJsonAmount(deposit.amount),
    currency: deposit.currency,
    reference: deposit.reference,
    status: statusOf(deposit.status),
    transaction_id: deposit.transactionId,
    created_at: typeof deposit.createdAt === 'string' ? deposit.createdAt : deposit.createdAt.toISOString(),
  };
}
