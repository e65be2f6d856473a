import { Type, type Static } from 'typebox';
import { AmountMinor, CurrencyCode } from './common.ts';
import { paymentStatuses } from '../../domain/payment-state.ts';
import { Payment } from '../../payments/public-payment.ts';

const Provider = Type.Union([Type.Literal('stripe'), Type.Literal('paypal')]);

export const CreatePaymentBody = Type.Object(
  {
    amount: AmountMinor,
    currency: CurrencyCode,
    source: Type.Union([
      Type.Object(
        {
          type: Type.Literal('card'),
          token: Type.String({ minLength: 1, maxLength: 255 }),
          provider: Type.Optional(Provider),
        },
        { additionalProperties: false },
      ),
      Type.Object(
        { type: Type.Literal('wallet'), account_id: Type.String({ minLength: 1, maxLength: 64 }) },
        { additionalProperties: false },
      ),
    ]),
    capture_method: Type.Optional(Type.Union([Type.Literal('automatic'), Type.Literal('manual')])),
    customer: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    description: Type.Optional(Type.String({ minLength: 1, maxLength: 1_000 })),
    metadata: Type.Optional(
      Type.Record(Type.String({ maxLength: 40 }), Type.String({ maxLength: 500 }), { maxProperties: 20 }),
    ),
  },
  { additionalProperties: false },
);
export type CreatePaymentBody = Static<typeof CreatePaymentBody>;

export const CaptureBody = Type.Object({ amount: Type.Optional(AmountMinor) }, { additionalProperties: false });
export const RefundBody = Type.Object(
  {
    amount: Type.Optional(AmountMinor),
    reason: Type.Optional(
      Type.Union([Type.Literal('requested_by_customer'), Type.Literal('duplicate'), Type.Literal('fraudulent')]),
    ),
  },
  { additionalProperties: false },
);
export const EmptyBody = Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]);

// The public shapes live with the resources, shared by routes and events.
export { Refund } from '../../payments/public-refund.ts';
export { Payment };
export { PaymentTimeline } from '../../payments/public-payment-timeline.ts';
export const PaymentListQuery = Type.Object(
  {
    // An unknown status is a client error, not an empty list.
    status: Type.Optional(Type.Union(paymentStatuses.map((status) => Type.Literal(status)))),
    customer: Type.Optional(Type.String({ maxLength: 255 })),
    'created[gte]': Type.Optional(Type.String({ format: 'date-time' })),
    'created[lte]': Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    starting_after: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const PaymentQuery = Type.Object(
  {
    at: Type.Optional(
      Type.String({ format: 'date-time', description: 'ISO 8601 instant: the payment as it was then; default now' }),
    ),
  },
  { additionalProperties: false },
);

export const PaymentList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(Payment),
  has_more: Type.Boolean(),
});

export const LedgerTransactionList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(
    Type.Object({
      transaction_id: Type.String(),
      kind: Type.String(),
      reference: Type.Union([Type.String(), Type.Null()]),
      created_at: Type.String({ format: 'date-time' }),
      entries: Type.Array(
        Type.Object({
          account_id: Type.String(),
          amount: Type.Integer(),
          currency: Type.String(),
          /** Null for platform accounts (clearing, fees): their balance is no merchant's business. */
          balance_after: Type.Union([Type.Integer(), Type.Null()]),
        }),
      ),
    }),
  ),
});
