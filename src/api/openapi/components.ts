import { Type, type TSchema } from 'typebox';
import { ErrorResponse } from '../schemas/common.ts';
import { Account, Balance, Deposit, Entry, EntryList } from '../schemas/accounts.ts';
import { Delivery, Event } from '../schemas/events.ts';
import { CreatedMerchant } from '../schemas/merchants.ts';
import { PaymentRecord, PaymentRecordAnswer } from '../schemas/payment-records.ts';
import { LedgerTransactionList, Payment, PaymentTimeline, Refund } from '../schemas/payments.ts';
import { ReconciliationItem, ReconciliationRun } from '../schemas/reconciliation.ts';
import { Transfer } from '../schemas/transfers.ts';
import { DeletedWebhookEndpoint, WebhookEndpoint } from '../schemas/webhook-endpoints.ts';
import { ImportRunSchema } from '../../records/import-runs.ts';
import { paymentStatuses } from '../../domain/payment-state.ts';
import { eventTypes } from '../../events/catalog.ts';

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
};

/**
 * Closed sets the response schemas type as plain strings (so an answer is never refused by the
 * serializer), given to clients as enums. Each names a component, a property and its values.
 */
export const documentedEnums: readonly { schema: string; property: string; values: readonly string[] }[] = [
  { schema: 'Payment', property: 'status', values: paymentStatuses },
  { schema: 'Payment', property: 'capture_method', values: ['automatic', 'manual'] },
  { schema: 'Refund', property: 'status', values: ['pending', 'succeeded', 'failed'] },
  { schema: 'Account', property: 'type', values: ['customer', 'merchant'] },
  { schema: 'Event', property: 'type', values: eventTypes },
  { schema: 'WebhookEndpoint', property: 'status', values: ['enabled', 'disabled'] },
];
