import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ProviderEvent } from '../src/webhooks/inbound-events.ts';
import type { PaymentView, RefundView } from '../src/domain/payment-view.ts';

// Updates, signals and queries of the payment workflow, shared with the API. Updates have
// validators: an invalid transition is refused before it touches history, and the API
// answers 409 (or 400 for a bad amount).

export interface WaitArgs {
  /** How long the update may wait for a stable status before answering with the current one. */
  waitMs: number;
}

export const awaitStableUpdate = defineUpdate<PaymentView, [WaitArgs]>('awaitStable');
export const captureUpdate = defineUpdate<PaymentView, [{ amount?: bigint }]>('capture');
export const cancelUpdate = defineUpdate<PaymentView, []>('cancel');
export const approveUpdate = defineUpdate<PaymentView, []>('approve');
export const rejectUpdate = defineUpdate<PaymentView, []>('reject');
export const refundUpdate = defineUpdate<RefundView, [{ refundId: string; amount?: bigint; reason?: string }]>(
  'refund',
);
export const statusQuery = defineQuery<PaymentView>('status');

/** A provider webhook about this payment's charge, forwarded by the webhook workflow. */
export const providerEventSignal = defineSignal<[ProviderEvent]>('providerEvent');

/**
 * An operator asks a payment that requires attention to look its unknown step up again now
 * (POST /v1/admin/payments/:id/lookup), after the provider is reachable again.
 */
export const lookUpAgainSignal = defineSignal<[]>('lookUpAgain');
