import { Type, type Static } from 'typebox';
import { AmountMinor, CurrencyCode, Metadata, MetadataUpdate, UpdatableDescription } from './common.ts';
import { listOf, listQuery } from '../list-pages.ts';
import { Refund } from '../../payments/public-refund.ts';
import { maxDescriptionLength } from '../../domain/metadata-limits.ts';
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
    description: Type.Optional(Type.String({ minLength: 1, maxLength: maxDescriptionLength })),
    metadata: Type.Optional(Metadata),
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
export { Payment, Refund };
export { PaymentTimeline } from '../../payments/public-payment-timeline.ts';
/** `expand[]=events`, `expand[]=refunds`: what a payment answer adds (a lone value is a list of one). */
const PaymentExpand = Type.Array(Type.Union([Type.Literal('events'), Type.Literal('refunds')]), {
  maxItems: 2,
  uniqueItems: true,
  description: 'events: the payment timeline; refunds: its refunds (a single payment always carries them)',
});

export const PaymentListQuery = listQuery({
  // An unknown status is a client error, not an empty list.
  status: Type.Optional(Type.Union(paymentStatuses.map((status) => Type.Literal(status)))),
  customer: Type.Optional(Type.String({ maxLength: 255 })),
  'expand[]': Type.Optional(PaymentExpand),
});

export const PaymentQuery = Type.Object(
  {
    at: Type.Optional(
      Type.String({ format: 'date-time', description: 'ISO 8601 instant: the payment as it was then; default now' }),
    ),
    'expand[]': Type.Optional(PaymentExpand),
  },
  { additionalProperties: false },
);

export const PaymentList = listOf(Payment);
export const RefundList = listOf(Refund);
export const RefundListQuery = listQuery({ payment_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) });
export const PaymentRefundListQuery = listQuery({});

/** POST /v1/payments/:id: what a merchant may change of a payment. */
export const UpdatePaymentBody = Type.Object(
  { description: Type.Optional(UpdatableDescription), metadata: Type.Optional(MetadataUpdate) },
  { additionalProperties: false },
);
export type UpdatePaymentBody = Static<typeof UpdatePaymentBody>;

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
