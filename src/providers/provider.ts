import { PaymentsError } from '../domain/errors.ts';
import type { SettlementReports } from './settlement-report.ts';
import type { ProviderName } from './provider-name.ts';
import type { PayoutProvider } from './payouts.ts';
import type { ProviderAttemptLog } from './provider-attempts.ts';

// One interface over every card processor. Adapters translate each provider's endpoint
// shapes, amount formats and errors into these types; nothing above this file knows which
// provider answered. Every call that changes state carries an idempotency key derived from
// the payment id and the step, so a retried activity never charges twice.

export type { ProviderName };

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

export interface RefundRequest {
  idempotencyKey: string;
  chargeId: string;
  amount: bigint;
  /** Our ids, stored with the refund where the provider keeps caller ids (Stripe's metadata). */
  ids?: { paymentId: string; refundId: string };
}

/** What a provider holds for an authorize request whose answer we never got. */
export type ChargeLookup =
  | { found: 'charge'; charge: ProviderCharge }
  | { found: 'declined'; code: 'card_declined' | 'insufficient_funds' }
  /** The provider has nothing from that request. */
  | { found: 'nothing' };

export interface PaymentProvider {
  readonly name: ProviderName;
  authorize(request: AuthorizeRequest): Promise<ProviderCharge>;
  capture(request: { idempotencyKey: string; chargeId: string; amount: bigint }): Promise<ProviderCharge>;
  void(request: { idempotencyKey: string; chargeId: string }): Promise<ProviderCharge>;
  refund(request: RefundRequest): Promise<ProviderRefund>;
  get(chargeId: string): Promise<ProviderCharge>;
  /**
   * The charge an authorize request made, found by our payment id (Stripe: charge search by
   * metadata) or by the request's key (PayPal: lookup by PayPal-Request-Id). Reads only.
   */
  findCharge(request: { idempotencyKey: string; paymentId: string }): Promise<ChargeLookup>;
  /** The refund a refund request made (Stripe: the charge's refunds by our refund id; PayPal: by
   * PayPal-Request-Id), or undefined when the provider has none. Reads only. */
  findRefund(request: {
    idempotencyKey: string;
    chargeId: string;
    refundId: string;
  }): Promise<ProviderRefund | undefined>;
}

// Failures, thrown as PaymentsError from src/domain/errors.ts:
// - a decline: code 'card_declined' or 'insufficient_funds' (non-retryable; the payment fails);
// - a refused request: 'parameter_invalid' / 'amount_too_large' / 'resource_missing' (non-retryable);
// - timeout, connection error, 5xx, or an open circuit: 'provider_unavailable' (retryable).
//   Whether the provider may have acted on the request is told by ProviderUnavailableError.

/** What the payment activities need: routing with fallback for new charges, and the one
 * provider that holds an existing charge for everything after. */
export interface ProviderGateway {
  /**
   * `failedAttempts`: providers tried first that did not answer in time; each may hold an
   * authorization made under `<idempotency key>:<provider>` that must be released. `attempts`:
   * sticky routing for a step that may run again (src/providers/router.ts).
   */
  authorize(
    request: AuthorizeRequest & {
      provider?: ProviderName | undefined;
      stopOnUnknownOutcome?: boolean;
      attempts?: ProviderAttemptLog | undefined;
    },
  ): Promise<{
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
 * (connection refused, 503 or 429, an open circuit). `serverError`: the provider did answer,
 * with a 5xx, so it is up and a retry with the same key reaches its idempotency store at once;
 * a timeout or a lost connection left no answer at all.
 */
export class ProviderUnavailableError extends PaymentsError {
  constructor(
    message: string,
    readonly outcomeUnknown: boolean,
    readonly serverError = false,
  ) {
    super('provider_unavailable', message);
  }
}

/**
 * A provider that may have acted on the request without our hearing its answer. Thrown by the
 * router instead of falling back, for callers that resolve such a request by lookup.
 */
export class OutcomeUnknownError extends ProviderUnavailableError {
  constructor(
    message: string,
    readonly provider: ProviderName,
    serverError = false,
  ) {
    super(message, true, serverError);
  }
}

/**
 * Whether a failed call may have taken effect at the provider. Only a provider_unavailable that
 * surely turned the request away (ProviderUnavailableError with outcomeUnknown false: refused
 * connection, 503, 429, open circuit) says no; any other (a timeout, a reset, a 500, an answer we
 * could not read) may hide a charge.
 */
export function outcomeMayBeUnknown(error: unknown): boolean {
  if (!(error instanceof PaymentsError) || error.code !== 'provider_unavailable') return false;
  return !(error instanceof ProviderUnavailableError) || error.outcomeUnknown;
}
