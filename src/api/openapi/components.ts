import { Type, type TSchema } from 'typebox';
import type { AccountType } from '../../ledger/ledger.ts';
import { ErrorResponse } from '../schemas/common.ts';
import { Account, Balance, Deposit, Entry, EntryList } from '../schemas/accounts.ts';
import { Delivery, Event } from '../schemas/events.ts';
import { CreatedMerchant } from '../schemas/merchants.ts';
import { ApiKey } from '../schemas/api-keys.ts';
import { apiKeyStatuses } from '../../api-keys/api-keys.ts';
import { PaymentRecord, PaymentRecordAnswer } from '../schemas/payment-records.ts';
import { LedgerTransactionList, Payment, PaymentTimeline, Refund } from '../schemas/payments.ts';
import { PaymentTimelineEntry } from '../../payments/public-payment-timeline.ts';
import { ReconciliationItem, ReconciliationRun } from '../schemas/reconciliation.ts';
import { Transfer } from '../schemas/transfers.ts';
import { DeletedWebhookEndpoint, WebhookEndpoint } from '../schemas/webhook-endpoints.ts';
import { ImportRunSchema } from '../../records/import-runs.ts';
import { paymentStatuses } from '../../domain/payment-state.ts';
import { eventTypes, paymentEventTypes } from '../../events/catalog.ts';

// The named schemas of the OpenAPI document. Routes declare their schemas inline (TypeBox
// constants); the document replaces every inline schema equal to one of these with a $ref to
// it (src/api/openapi/document.ts), so a client generator sees one `Payment` type, not fifty.

/** A page of a resource, as every list route answers it (key order does not matter). */
function listOf(item: TSchema): TSchema {
  return Type.Object({ object: Type.Literal('list'), data: Type.Array(item), has_more: Type.Boolean() });
}

export const namedSchemas: Readonly<Record<string, TSchema>> = {
  Error: ErrorResponse,
  Payment,
  PaymentList: listOf(Payment),
  PaymentTimeline,
  PaymentTimelineEntry,
  PaymentLedgerTransactions: LedgerTransactionList,
  Refund,
  Account,
  Balance,
  LedgerEntry: Entry,
  LedgerEntryList: EntryList,
  Deposit,
  Transfer,
  Event,
  EventList: listOf(Event),
  WebhookEndpoint,
  WebhookEndpointList: listOf(WebhookEndpoint),
  DeletedWebhookEndpoint,
  WebhookDelivery: Delivery,
  WebhookDeliveryList: listOf(Delivery),
  WebhookRedeliveries: Type.Object({ object: Type.Literal('list'), data: Type.Array(Delivery) }),
  PaymentRecord,
  PaymentRecordAnswer,
  ImportRun: ImportRunSchema,
  ImportRunList: listOf(ImportRunSchema),
  ReconciliationRun,
  ReconciliationRunList: listOf(ReconciliationRun),
  ReconciliationItem,
  ReconciliationItemList: listOf(ReconciliationItem),
  Merchant: CreatedMerchant,
  ApiKey,
  ApiKeyList: listOf(ApiKey),
};

/**
 * Closed sets the response schemas type as plain strings (so an answer is never refused by the
 * serializer), given to clients as enums. Each names a component, a property and its values.
 */
export const documentedEnums: readonly { schema: string; property: string; values: readonly string[] }[] = [
  { schema: 'Payment', property: 'status', values: paymentStatuses },
  { schema: 'Payment', property: 'capture_method', values: ['automatic', 'manual'] },
  { schema: 'Refund', property: 'status', values: ['pending', 'succeeded', 'failed'] },
  // A merchant's own accounts (src/ledger/ledger.ts AccountType): those it opens, and the two
  // its payment proceeds wait in (GET /v1/accounts lists them too); system accounts are no one's.
  {
    schema: 'Account',
    property: 'type',
    values: ['customer', 'merchant', 'merchant_pending', 'merchant_available'] satisfies AccountType[],
  },
  { schema: 'Event', property: 'type', values: eventTypes },
  { schema: 'PaymentTimelineEntry', property: 'type', values: paymentEventTypes },
  { schema: 'WebhookDelivery', property: 'event_type', values: eventTypes },
  { schema: 'WebhookEndpoint', property: 'status', values: ['enabled', 'disabled'] },
  { schema: 'ApiKey', property: 'status', values: apiKeyStatuses },
];

/** What an `id` looks like in each resource: the prefix its ids carry. */
export const idExamples: Readonly<Record<string, string>> = {
  Payment: 'pay_3f9a8c2e1b7d4e6f9a0b1c2d3e4f5a6b',
  Refund: 're_5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e',
  Account: 'acct_7c1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f',
  Deposit: 'dep_0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d',
  Transfer: 'tr_6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c',
  Event: 'evt_2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f',
  WebhookEndpoint: 'we_4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a',
  DeletedWebhookEndpoint: 'we_4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a',
  WebhookDelivery: 'wd_5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
  PaymentRecord: 'rec_8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b',
  PaymentRecordAnswer: 'rec_8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b',
  ImportRun: 'imp_9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c',
  ReconciliationRun: 'rcn_0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e',
  ReconciliationItem: 'rci_1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f',
  Merchant: 'mer_2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a',
  ApiKey: 'ak_0Zk3fQ7a1b2c3d4e5f6a7b',
};

/**
 * Realistic values of the fields many schemas share, by name, so the samples a UI draws from
 * the schemas read like answers of this API (a payment of 10.00 USD with its 2.9 % + 30 fee)
 * rather than `"string"` and 2^53 − 1.
 */
export const propertyExamples: Readonly<Record<string, unknown>> = {
  currency: 'USD',
  amount: 1000,
  amount_capturable: 0,
  amount_captured: 1000,
  amount_refunded: 0,
  fee: 59,
  net_amount: 941,
  balance: 1050,
  available: 1050,
  held: 0,
  balance_after: 1050,
  customer: 'cus_1001',
  description: 'Order #1001',
  token: 'tok_visa',
  brand: 'visa',
  last4: '4242',
  payment_id: idExamples.Payment,
  account_id: idExamples.Account,
  from_account_id: idExamples.Account,
  to_account_id: 'acct_1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d',
  event_id: idExamples.Event,
  endpoint_id: idExamples.WebhookEndpoint,
  run_id: idExamples.ReconciliationRun,
  transaction_id: 'txn_3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b',
  url: 'https://example.com/webhooks',
  reference_number: 'RCPT-2026-0001',
  account_reference: 'LOAN-1001',
  external_reference: 'LOAN-1001',
  api_key: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
  secret: 'whsec_5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c',
  prefix: 'sk_test_4eC3',
  rolled_to: 'ak_0Zk3fR2b3c4d5e6f7a8b9',
};
