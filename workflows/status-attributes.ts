import { patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { isStable, type PaymentStatus } from '../src/domain/payment-state.ts';
import type { PayoutStatus } from '../src/domain/payout-state.ts';

// The search attributes that show a money workflow's own status in the Temporal Web UI and let
// `temporal workflow list --query` find the stuck ones (README, "Finding stuck payments").
// A payment, payout or transfer workflow stays `Running` while it waits (a payment for six
// months, for refunds), so its execution status alone cannot tell a succeeded one from a stuck
// one. Search attributes bypass payload codecs: they are stored and shown as they are, so they
// carry ids, amounts, currencies and statuses, never anything personal.
// Each is registered in temporal-config/dev-server.json.

const paymentStatusKey = { name: 'PaymentStatus', type: 'KEYWORD' } as const;
const payoutStatusKey = { name: 'PayoutStatus', type: 'KEYWORD' } as const;
const transferStatusKey = { name: 'TransferStatus', type: 'KEYWORD' } as const;
const merchantIdKey = { name: 'MerchantId', type: 'KEYWORD' } as const;
const currencyKey = { name: 'Currency', type: 'KEYWORD' } as const;
const amountMinorKey = { name: 'AmountMinor', type: 'INT' } as const;
/** Set at the start of payments until the customer id was found personal; cleared since. */
const customerIdKey = { name: 'CustomerId', type: 'KEYWORD' } as const;

/**
 * Since this patch a payment shows its every status change, `processing` included (a capture
 * or void whose answer is being looked up), and a CustomerId that its start set is cleared at
 * its next status change. Runs that changed status before it showed stable statuses only.
 */
export const paymentStatusShownPatch = 'payment-status-search-attribute-every-change';

/** Since this patch a payout shows its status, merchant, amount and currency from its start. */
export const payoutStatusShownPatch = 'payout-status-search-attribute';

/** Since this patch a transfer shows its status, merchant, amount and currency from its start. */
export const transferStatusShownPatch = 'transfer-status-search-attribute';

/**
 * The payment's status changed to `status`: shown in PaymentStatus. Only a change that the code
 * before the patch showed differently asks for it, so the usual payment (stable statuses, no
 * CustomerId) records no patch marker: its history is as long as before.
 */
export function showPaymentStatus(status: PaymentStatus): void {
  const customerShown = workflowInfo().typedSearchAttributes.get(customerIdKey) !== undefined;
  if (isStable(status) && !customerShown) {
    upsertSearchAttributes([{ key: paymentStatusKey, value: status }]);
  } else if (patched(paymentStatusShownPatch)) {
    upsertSearchAttributes([
      { key: paymentStatusKey, value: status },
      ...(customerShown ? [{ key: customerIdKey, value: null }] : []),
    ]);
  } else if (isStable(status)) {
    upsertSearchAttributes([{ key: paymentStatusKey, value: status }]);
  }
}

/** What a payout or transfer is for, shown with its status from its first step. */
interface MoneyMovement {
  merchantId: string;
  amount: bigint;
  currency: string;
}

function movementAttributes(movement: MoneyMovement) {
  return [
    { key: merchantIdKey, value: movement.merchantId },
    // Amounts are at most Number.MAX_SAFE_INTEGER (src/domain/money.ts): exact as a number.
    { key: amountMinorKey, value: Number(movement.amount) },
    { key: currencyKey, value: movement.currency },
  ];
}

/** The payout's first step: PayoutStatus `pending`, with its merchant, amount and currency. */
export function showPayoutOpened(payout: MoneyMovement): void {
  if (!patched(payoutStatusShownPatch)) return;
  upsertSearchAttributes([{ key: payoutStatusKey, value: 'pending' }, ...movementAttributes(payout)]);
}

/** The payout's status changed to `status`: shown in PayoutStatus. */
export function showPayoutStatus(status: PayoutStatus): void {
  if (!patched(payoutStatusShownPatch)) return;
  upsertSearchAttributes([{ key: payoutStatusKey, value: status }]);
}

/** The transfer's first step: TransferStatus `pending`, with its merchant, amount and currency. */
export function showTransferOpened(transfer: MoneyMovement): void {
  if (!patched(transferStatusShownPatch)) return;
  upsertSearchAttributes([{ key: transferStatusKey, value: 'pending' }, ...movementAttributes(transfer)]);
}

/** The transfer's outcome as recorded (`succeeded` or `failed`): shown in TransferStatus. */
export function showTransferStatus(status: 'pending' | 'succeeded' | 'failed'): void {
  if (!patched(transferStatusShownPatch)) return;
  upsertSearchAttributes([{ key: transferStatusKey, value: status }]);
}
