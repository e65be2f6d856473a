import { Type, type Static } from 'typebox';
import { toJsonAmount } from '../domain/money.ts';

// The one public shape of an account: the POST answers, GET /v1/accounts(/:id) and the
// `data.object` of account.updated. Its balance is the ledger's at the time it was read.

const SignedAmountMinor = Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER });
const nullableString = Type.Union([Type.String(), Type.Null()]);

export const Account = Type.Object({
  id: Type.String(),
  object: Type.Literal('account'),
  type: Type.String(),
  currency: Type.String(),
  balance: SignedAmountMinor,
  available: SignedAmountMinor,
  held: SignedAmountMinor,
  reference: nullableString,
  external_reference: nullableString,
  description: nullableString,
  metadata: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});
export type Account = Static<typeof Account>;

/** An `accounts` row. */
export interface AccountFacts {
  id: string;
  type: string;
  currency: string;
  balance: bigint;
  held: bigint;
  reference: string | null;
  externalReference: string | null;
  description: string | null;
  metadata: unknown;
  createdAt: Date;
}

export function presentAccount(account: AccountFacts): Account {
  return {
    id: account.id,
    object: 'account',
    type: account.type,
    currency: account.currency,
    balance: toJsonAmount(account.balance),
    available: toJsonAmount(account.balance - account.held),
    held: toJsonAmount(account.held),
    reference: account.reference,
    external_reference: account.externalReference,
    description: account.description,
    metadata: (account.metadata as Record<string, string> | null) ?? null,
    created_at: account.createdAt.toISOString(),
  };
}
