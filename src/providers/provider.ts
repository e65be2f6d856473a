import { PaymentsError } from '../domain/errors.ts';
import type { SettlementReports } from './settlement-report.ts';
import type { PayoutProvider } from './payouts.ts';

// One interface over every card processor. Adapters translate each provider's endpoint
// shapes, amount formats and errors into these types; nothing above this file knows which
// provider answered. Every call that changes state carries an idempotency key derived from
// the payment id and the step, so a retried activity never charges twice.

export type ProviderName = 'stripe' | 'paypal';

export type ChargeStatus = 'authorized' | 'captured' | 'voided';

export interface CardDetails {
  brand: string;
  last4: string;
}

export interface ProviderCharge {
  provider: ProviderName;
  /** The provider's own id (Stripe "ch_…", PayPal authorization id). */
  chargeId: string;
  status: ChargeStatus;
  amount: bigint;
  amountCaptured: bigint;
  amountRefunded: bigint;
  currency: string;
  card: CardDetails;
}

export interface ProviderRefund {
  provider: ProviderName;
  refundId: string;
  chargeId: string;
  amount: bigint;
}

export interface AuthorizeRequest {
  idempotencyKey: string;
  /** Our payment id, echoed in the provider's metadata and webhooks. */
  paymentId: string;
  amount: bigint;
  currency: string;
  /** Card token, e.g. tok_visa. */
  token: string;
  /** true: authorize and capture in one call. */
  capture: boolean;
}

export interface PaymentProvider {
  readonly name: ProviderName;
  authorize(request: AuthorizeRequest): Promise<ProviderCharge>;
  capture(request: { idempotencyKey: string; chargeId: string; amount: bigint }): Promise<ProviderCharge>;
  void(request: { idempotencyKey: string; chargeId: string }): Promise<ProviderCharge>;
  refund(request: { idempotencyKey: string; chargeId: string; amount: bigint }): Promise<ProviderRefund>;
  get(chargeId: string): Promise<ProviderCharge>;
}

// Failures, thrown as PaymentsError from src/domain/errors.ts:
// - a decline: code 'card_declined' or 'insufficient_funds' (non-retryable; the payment fails);
// - a refused request: 'parameter_invalid' / 'amount_too_large' / 'resource_missing' (non-retryable);
// - timeout, connection error, 5xx, or an open circuit: 'provider_unavailable' (retryable).

/** What the payment activities need: routing with fallback for new charges, and the one
 * provider that holds an existing charge for everything after. */
export interface ProviderGateway {
  /**
   * `failedAttempts`: providers tried first that did not answer in time; each may hold an
   * authorization made under `<idempotency key>:<provider>` that must be released.
   */
  authorize(request: AuthorizeRequest & { provider?: ProviderName | undefined }): Promise<{
    charge: ProviderCharge;
    failedAttempts: { provider: ProviderName; message: string; outcomeUnknown: boolean }[];
  }>;
  forCharge(provider: ProviderName): PaymentProvider;
  /** The provider's daily settlement reports (reconciliation); not behind the payment breakers. */
  settlementReports(provider: ProviderName): SettlementReports;
  /** Payouts to merchants' banks through the provider; not behind the payment breakers either. */
  payouts(provider: ProviderName): PayoutProvider;
}

/**
 * provider_unavailable, with what is known of the request's fate: `outcomeUnknown` when it may
 * have been processed (a timeout after sending, a reset, a 500), false when it surely was not
 * (connection refused, 503 or 429, an open circuit).
 */
export class ProviderUnavailableError extends PaymentsError {
  constructor(
    message: string,
    readonly outcomeUnknown: boolean,
  ) {
    super('provider_unavailable', message);
  }
}
