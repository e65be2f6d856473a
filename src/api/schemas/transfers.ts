import { Type, type Static } from 'typebox';
import { AmountMinor, CurrencyCode } from './common.ts';

export const CreateTransferBody = Type.Object(
  {
    from_account_id: Type.String({ minLength: 1, maxLength: 64 }),
    to_account_id: Type.String({ minLength: 1, maxLength: 64 }),
    amount: AmountMinor,
    currency: CurrencyCode,
    description: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type CreateTransferBody = Static<typeof CreateTransferBody>;

export const Transfer = Type.Object({
  id: Type.String(),
  object: Type.Literal('transfer'),
  from_account_id: Type.String(),
  to_account_id: Type.String(),
  amount: AmountMinor,
  currency: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  failure_code: Type.Union([Type.String(), Type.Null()]),
  failure_message: Type.Union([Type.String(), Type.Null()]),
  transaction_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});
export type Transfer = Static<typeof Transfer>;
