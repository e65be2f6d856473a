import { Type, type Static } from 'typebox';
import { AmountMinor, CurrencyCode, SignedAmountMinor } from './common.ts';

export const CreateAccountBody = Type.Object(
  {
    type: Type.Union([Type.Literal('customer'), Type.Literal('merchant')]),
    currency: CurrencyCode,
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    /** The merchant's own number for it (a loan or wallet number), unique per merchant: payment records find it by this. */
    external_reference: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '\\S' })),
  },
  { additionalProperties: false },
);
export type CreateAccountBody = Static<typeof CreateAccountBody>;

export const Account = Type.Object({
  id: Type.String(),
  object: Type.Literal('account'),
  type: Type.String(),
  currency: Type.String(),
  balance: SignedAmountMinor,
  available: SignedAmountMinor,
  held: SignedAmountMinor,
  reference: Type.Union([Type.String(), Type.Null()]),
  external_reference: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});
export type Account = Static<typeof Account>;

export const CreateDepositBody = Type.Object(
  {
    amount: AmountMinor,
    reference: Type.String({ minLength: 1, maxLength: 255 }),
  },
  { additionalProperties: false },
);
export type CreateDepositBody = Static<typeof CreateDepositBody>;

// The public shape lives with the resource, shared by routes and events.
export { Deposit } from '../../deposits/public-deposit.ts';

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
