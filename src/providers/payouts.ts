import type { ProviderName } from './provider-name.ts';

// Payouts to a merchant's bank through a provider, in our terms. The adapter
// (stripe-payouts.ts) translates the provider's shapes and errors; failures are thrown as
// PaymentsError like the card calls' (src/providers/provider.ts): provider_unavailable when
// the provider did not answer (retry with the same key), anything else is its refusal.

/** pending: accepted, on its way to the bank; paid or failed: the bank's answer. */
export type ProviderPayoutStatus = 'pending' | 'paid' | 'failed';

export interface ProviderPayout {
  provider: ProviderName;
  /** The provider's own id (Stripe "po_…"). */
  providerPayoutId: string;
  /** Our payout id, as the provider echoes it from the metadata. */
  payoutId: string | null;
  amount: bigint;
  currency: string;
  status: ProviderPayoutStatus;
}

export interface PayoutRequest {
  /** `<payout id>:submit`: every retry reaches the same payout at the provider. */
  idempotencyKey: string;
  payoutId: string;
  amount: bigint;
  currency: string;
  description: string | null;
}

export interface PayoutProvider {
  readonly name: ProviderName;
  create(request: PayoutRequest): Promise<ProviderPayout>;
  get(providerPayoutId: string): Promise<ProviderPayout>;
  /** The payout made for our payout id (searched by metadata), or null when the provider has none. */
  find(payoutId: string): Promise<ProviderPayout | null>;
}
