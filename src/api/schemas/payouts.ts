import { Type, type Static } from 'typebox';
import { AmountMinor, CurrencyCode } from './common.ts';
import { listOf, listQuery } from '../list-pages.ts';

export const CreatePayoutBody = Type.Object(
  {
    currency: CurrencyCode,
    /** Default: the whole available balance in the currency. */
    amount: Type.Optional(AmountMinor),
    description: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type CreatePayoutBody = Static<typeof CreatePayoutBody>;

export const PayoutListQuery = listQuery({
  // An unknown status is a client error, not an empty list.
  status: Type.Optional(
    Type.Union([Type.Literal('pending'), Type.Literal('in_transit'), Type.Literal('paid'), Type.Literal('failed')]),
  ),
  currency: Type.Optional(CurrencyCode),
});

export const PayoutSettings = Type.Object({
  object: Type.Literal('payout_settings'),
  schedule: Type.Union([Type.Literal('daily'), Type.Literal('weekly'), Type.Literal('manual')]),
  /** In minor units of the payout's currency. */
  minimum_amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
});
export type PayoutSettings = Static<typeof PayoutSettings>;

export const UpdatePayoutSettingsBody = Type.Object(
  {
    /** null: back to the platform's default. */
    schedule: Type.Optional(
      Type.Union([Type.Literal('daily'), Type.Literal('weekly'), Type.Literal('manual'), Type.Null()]),
    ),
    /** null: back to the platform's default; never below it. */
    minimum_amount: Type.Optional(Type.Union([AmountMinor, Type.Null()])),
  },
  { additionalProperties: false },
);
export type UpdatePayoutSettingsBody = Static<typeof UpdatePayoutSettingsBody>;

// The public shape lives with the resource, shared by routes and events.
export { Payout } from '../../payouts/public-payout.ts';
import { Payout } from '../../payouts/public-payout.ts';

export const PayoutList = listOf(Payout);
