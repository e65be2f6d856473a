import { Type, type Static } from 'typebox';
import {
  AmountMinor,
  CurrencyCode,
  Metadata,
  MetadataUpdate,
  SignedAmountMinor,
  UpdatableDescription,
} from './common.ts';
import { listOf, listQuery } from '../list-pages.ts';
import { maxDescriptionLength } from '../../domain/metadata-limits.ts';
import { Account } from '../../accounts/public-account.ts';
import { Deposit } from '../../deposits/public-deposit.ts';

export const CreateAccountBody = Type.Object(
  {
    type: Type.Union([Type.Literal('customer'), Type.Literal('merchant')]),
    currency: CurrencyCode,
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    /** The merchant's own number for it (a loan or wallet number), unique per merchant: payment records find it by this. */
    external_reference: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '\\S' })),
    description: Type.Optional(Type.String({ minLength: 1, maxLength: maxDescriptionLength })),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type CreateAccountBody = Static<typeof CreateAccountBody>;

// The public shape lives with the resource, shared by routes and events.
export { Account };

export const AccountList = listOf(Account);
export const AccountListQuery = listQuery({
  type: Type.Optional(Type.Union([Type.Literal('customer'), Type.Literal('merchant')])),
  currency: Type.Optional(CurrencyCode),
});

/** POST /v1/accounts/:id: what a merchant may change of an account. */
export const UpdateAccountBody = Type.Object(
  { description: Type.Optional(UpdatableDescription), metadata: Type.Optional(MetadataUpdate) },
  { additionalProperties: false },
);

export const CreateDepositBody = Type.Object(
  {
    amount: AmountMinor,
    reference: Type.String({ minLength: 1, maxLength: 255 }),
  },
  { additionalProperties: false },
);
export type CreateDepositBody = Static<typeof CreateDepositBody>;

// The public shape lives with the resource, shared by routes and events.
export { Deposit };
export const DepositList = listOf(Deposit);
export const DepositListQuery = listQuery({ account_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) });

export const BalanceQuery = Type.Object(
  { at: Type.Optional(Type.String({ format: 'date-time', description: 'ISO 8601 instant; default now' })) },
  { additionalProperties: false },
);

export const Balance = Type.Object({
  object: Type.Literal('balance'),
  account_id: Type.String(),
  currency: Type.String(),
  balance: SignedAmountMinor,
  /** Only for the current balance: holds are not historical. */
  available: Type.Optional(SignedAmountMinor),
  held: Type.Optional(SignedAmountMinor),
  at: Type.String({ format: 'date-time' }),
});

export const EntriesQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    starting_after: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const Entry = Type.Object({
  id: Type.String(),
  object: Type.Literal('entry'),
  account_id: Type.String(),
  transaction_id: Type.String(),
  kind: Type.String(),
  reference: Type.Union([Type.String(), Type.Null()]),
  amount: SignedAmountMinor,
  currency: Type.String(),
  balance_after: SignedAmountMinor,
  created_at: Type.String({ format: 'date-time' }),
});

export const EntryList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(Entry),
  has_more: Type.Boolean(),
});
