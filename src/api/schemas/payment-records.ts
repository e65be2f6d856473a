import { Type, type Static } from 'typebox';
import { AmountMinor, CurrencyCode } from './common.ts';

// The recording webhook's body: a payment that arrived outside the platform, named by the
// merchant's own reference number (unique per merchant: a second one is a duplicate).

const recordFields = {
  reference_number: Type.String({ minLength: 1, maxLength: 128, pattern: '\\S' }),
  account_reference: Type.String({ minLength: 1, maxLength: 255 }),
  customer_reference: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  amount: AmountMinor,
  currency: CurrencyCode,
  paid_at: Type.String({ format: 'date-time' }),
  channel: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  metadata: Type.Optional(
    Type.Record(Type.String({ maxLength: 40 }), Type.String({ maxLength: 500 }), { maxProperties: 20 }),
  ),
};

export const CreatePaymentRecordBody = Type.Object(recordFields, { additionalProperties: false });
export type CreatePaymentRecordBody = Static<typeof CreatePaymentRecordBody>;

/** A partner's record names the merchant whose books receive it. */
export const PartnerPaymentRecordBody = Type.Object(
  { merchant_id: Type.String({ minLength: 1, maxLength: 64 }), ...recordFields },
  { additionalProperties: false },
);
export type PartnerPaymentRecordBody = Static<typeof PartnerPaymentRecordBody>;

export const PaymentRecordAnswer = Type.Object({
  status: Type.Union([Type.Literal('created'), Type.Literal('duplicate')]),
  id: Type.String(),
});

export { PaymentRecord } from '../../records/public-record.ts';
