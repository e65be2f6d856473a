import type { ProviderName } from '../providers/provider.ts';
import type { ErrorCode } from './errors.ts';
import type { PayoutStatus } from './payout-state.ts';
import type { PayoutTiming } from './payout-settings.ts';

// What the payout workflow starts with and what it knows of its payout. Pure types and
// functions: shared by the API, the workflow and its activities.

export interface PayoutInput {
  /** `pyo_…`, derived from the merchant and the Idempotency-Key, or from the schedule's day: the workflow id. */
  payoutId: string;
  merchantId: string;
  /** Fixed at creation: the amount asked for, or the available balance then. */
  amount: bigint;
  currency: string;
  /** Started by the payout schedule. */
  automatic: boolean;
  description: string | null;
  /** The provider that moves the money (PAYOUT_PROVIDER). */
  provider: ProviderName;
  timing: PayoutTiming;
}

export interface PayoutView {
  id: string;
  merchantId: string;
  amount: bigint;
  currency: string;
  status: PayoutStatus;
  automatic: boolean;
  description: string | null;
  provider: string;
  providerPayoutId: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: string;
}

/** What the provider reported about a payout it accepted (webhook or status check). */
export interface PayoutOutcome {
  status: 'paid' | 'failed';
  providerPayoutId: string;
}

/** The payout as the API shows it before its workflow has recorded it (a 202 answer). */
export function openingPayoutView(input: PayoutInput, createdAt: string): PayoutView {
  return {
    id: input.payoutId,
    merchantId: input.merchantId,
    amount: input.amount,
    currency: input.currency,
    status: 'pending',
    automatic: input.automatic,
    description: input.description,
    provider: input.provider,
    providerPayoutId: null,
    failureCode: null,
    failureMessage: null,
    createdAt,
  };
}

// A failed payout's `failure_message` is our own sentence for its `failure_code`; provider
// text never reaches a merchant.
const sentences: Partial<Record<ErrorCode, string>> = {
  insufficient_funds: 'The available balance no longer covered the payout when it started; nothing was paid out.',
  amount_too_small: 'The available balance was below the minimum payout amount when the payout started.',
  provider_unavailable:
    'The payout provider could not be reached; nothing was paid out and the amount is available again.',
  payout_failed: 'The bank returned the payout; the amount is back in the available balance.',
  amount_too_large: 'The amount is larger than the payout provider accepts; nothing was paid out.',
  parameter_invalid: 'The payout was not accepted by the payout provider; nothing was paid out.',
};

const fallback = 'The payout could not be completed; nothing was paid out.';

export function payoutFailureMessage(code: string): string {
  return sentences[code as ErrorCode] ?? fallback;
}
