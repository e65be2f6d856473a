import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PayoutOutcome, PayoutView } from '../src/domain/payout-view.ts';
import type { WaitArgs } from './messages.ts';

// Messages of the payout workflow, shared with the API and the webhook routing.

/** POST /v1/payouts waits on it: the payout once recorded and held (or refused), null if not yet. */
export const payoutOpenedUpdate = defineUpdate<PayoutView | null, [WaitArgs]>('payoutOpened');

/** The bank's answer, from the provider's payout.paid / payout.failed webhook. */
export const payoutOutcomeSignal = defineSignal<[PayoutOutcome]>('payoutOutcome');

export const payoutStatusQuery = defineQuery<PayoutView | null>('payoutStatus');
