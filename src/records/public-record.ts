import { Type, type Static } from 'typebox';
import { toJsonAmount } from '../domain/money.ts';

// The one public shape of a recorded payment (`rec_…`): GET /v1/payment_records/:id and the
// `data.object` of payment_record.created, whichever way it arrived (import or webhook). The
// import's events are built by its SQL twin, payment_record_json (migration
// 20261206120000_import_events_in_sql), and encrypted there (20261208000000_sealed_imports);
// imports.test.ts fails if the two ever differ.

export const PaymentRecord = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_record'),
  reference_number: Type.String(),
  account_id: Type.String(),
  account_reference: Type.String(),
  customer_reference: Type.Union([Type.String(), Type.Null()]),
  amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  currency: Type.String(),
  paid_at: Type.String({ format: 'date-time' }),
  channel: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  source: Type.Union([Type.Literal('staging'), Type.Literal('webhook')]),
  transaction_id: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});
export type PaymentRecord = Static<typeof PaymentRecord>;

/** A `recorded_payments` row (or the same columns read from the import's batch). */
export interface RecordedPaymentFacts {
  id: string;
  referenceNumber: string;
  accountId: string;
  accountReference: string;
  customerReference: string | null;
  amount: bigint;
  currency: string;
  paidAt: Date;
  channel: string | null;
  metadata: unknown;
  source: string;
  transactionId: string;
  createdAt: Date;
}

function sourceOf(source: string): PaymentRecord['source'] {
  if (source !== 'staging' && source !== 'webhook') throw new Error(`record source ${source} is not a public one`);
  return source;
}

function metadataOf(metadata: unknown): PaymentRecord['metadata'] {
  if (metadata === null || metadata === undefined) return null;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) return { value: metadata };
  return metadata as Record<string, unknown>;
}

export function presentRecordedPayment(record: RecordedPaymentFacts): PaymentRecord {
  return {
    id: record.id,
    object: 'payment_record',
    reference_number: record.referenceNumber,
    account_id: record.accountId,
    account_reference: record.accountReference,
    customer_reference: record.customerReference,
    amount: toJsonAmount(record.amount),
    currency: record.currency,
    paid_at: record.paidAt.toISOString(),
    channel: record.channel,
    metadata: metadataOf(record.metadata),
    source: sourceOf(record.source),
    transaction_id: record.transactionId,
    created_at: record.createdAt.toISOString(),
  };
}

/** The outbox event announcing a recorded payment; its source key makes a retry write none. */
export function recordCreatedEvent(merchantId: string, record: RecordedPaymentFacts) {
  return {
    merchantId,
    type: 'payment_record.created',
    resourceId: record.id,
    data: presentRecordedPayment(record),
    sourceKey: `payment_record:${record.id}:created`,
  };
}
