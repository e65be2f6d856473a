import { Type, type Static } from 'typebox';
import { toJsonAmount } from '../domain/money.ts';

// The one public shape of a transfer: the POST answer, GET /v1/transfers/:id and the
// `data.object` of transfer.* events.

export const Transfer = Type.Object({
  id: Type.String(),
  object: Type.Literal('transfer'),
  from_account_id: Type.String(),
  to_account_id: Type.String(),
  amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  currency: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  failure_code: Type.Union([Type.String(), Type.Null()]),
  failure_message: Type.Union([Type.String(), Type.Null()]),
  transaction_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});
export type Transfer = Static<typeof Transfer>;

/** A `transfers` row (the workflow's TransferView names its id `transferId`: pass `id` from it). */
export interface TransferFacts {
  id: string;
  fromAccountId: string;
  toAccountId: string;
  amount: bigint;
  currency: string;
  description: string | null;
  status: string;
  failureCode: string | null;
  failureMessage: string | null;
  transactionId: string | null;
  createdAt: Date | string;
}

const statuses: readonly Transfer['status'][] = ['pending', 'succeeded', 'failed'];

function statusOf(status: string): Transfer['status'] {
  const known = statuses.find((candidate) => candidate === status);
  if (!known) throw new Error(`transfer status ${status} is not a public one`);
  return known;
}

export function presentTransfer(transfer: TransferFacts): Transfer {
  return {
    id: transfer.id,
    object: 'transfer',
    from_account_id: transfer.fromAccountId,
    to_account_id: transfer.toAccountId,
    amount: toJsonAmount(transfer.amount),
    currency: transfer.currency,
    description: transfer.description,
    status: statusOf(transfer.status),
    failure_code: transfer.failureCode,
    failure_message: transfer.failureMessage,
    transaction_id: transfer.transactionId,
    created_at: typeof transfer.createdAt === 'string' ? transfer.createdAt : transfer.createdAt.toISOString(),
  };
}
