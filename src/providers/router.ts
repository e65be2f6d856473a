import CircuitBreaker from 'opossum';
import { PaymentsError } from '../domain/errors.ts';
import {
  OutcomeUnknownError,
  outcomeMayBeUnknown,
  ProviderUnavailableError,
  type AuthorizeRequest,
  type PaymentProvider,
  type ProviderCharge,
  type ProviderGateway,
  type ProviderName,
} from './provider.ts';
import type { SettlementReports } from './settlement-report.ts';
import { providerErrors, providerRequestDuration, recordBreakerState } from '../observability/metrics.ts';
import type { PayoutProvider } from './payouts.ts';

// Picks a provider per currency and keeps one circuit breaker per provider. Only
// provider_unavailable counts against a breaker: a decline means the provider works.
// A new charge may fall back to the next provider on the route; an existing charge can only
// be captured, voided or refunded where it lives.

export interface BreakerSettings {
  /** Failures (in percent of calls in the rolling window) above which the circuit opens. */
  errorThresholdPercentage: number;
  /** How long an open circuit refuses calls before letting one through to test the provider. */
  resetTimeoutMs: number;
  /** Calls needed in the window before the percentage is trusted. */
  volumeThreshold: number;
  /** Length of the rolling window the percentage is computed over. */
  rollingCountTimeoutMs: number;
}

export interface ProviderRouterOptions {
  providers: Record<ProviderName, PaymentProvider>;
  /** Currency (ISO 4217, upper case) → providers to try, in order. */
  routing: Record<string, ProviderName[]>;
  /** For currencies missing from `routing`. */
  defaultRoute: ProviderName[];
  breaker: BreakerSettings;
  /** Settlement report clients per provider, for reconciliation. */
  settlementReports?: Partial<Record<ProviderName, SettlementReports>>;
  /** Payout clients per provider (only providers that pay out to banks). */
  payouts?: Partial<Record<ProviderName, PayoutProvider>>;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface RoutedAuthorizeRequest extends AuthorizeRequest {
  /** Use this provider only: no fallback. */
  provider?: ProviderName;
  /**
   * A provider that may have acted without answering (a timeout, a reset) ends the attempt
   * with OutcomeUnknownError instead of a fallback, which could charge the customer twice;
   * the caller finds out by lookup. Only a provider that surely turned the request away is
   * passed over.
   */
  stopOnUnknownOutcome?: boolean;
}

export interface FailedAttempt {
  provider: ProviderName;
  message: string;
  /** The provider may have processed the request (see ProviderUnavailableError). */
  outcomeUnknown: boolean;
}

export interface RoutedCharge {
  charge: ProviderCharge;
  /**
   * Providers tried before the one that answered. A timeout there may still have created an
   * authorization (under `${idempotencyKey}:${provider}`) that the caller must find and void.
   */
  failedAttempts: FailedAttempt[];
}

export interface ProviderRouter extends ProviderGateway {
  authorize(request: RoutedAuthorizeRequest): Promise<RoutedCharge>;
  /** The provider holding an existing charge, behind its breaker. */
  forCharge(provider: ProviderName): PaymentProvider;
  breakerState(provider: ProviderName): BreakerState;
  /** Stops the breakers' statistics timers. */
  shutdown(): void;
}

type Call = () => Promise<unknown>;

function isUnavailable(error: unknown): boolean {
  return error instanceof PaymentsError && error.code === 'provider_unavailable';
}

type ProviderOperation = 'authorize' | 'capture' | 'void' | 'refund' | 'get' | 'findCharge' | 'findRefund';

/** A decline or refusal proves the provider works; unavailable is an outage; anything else a bug. */
function callOutcome(error: unknown): 'declined' | 'unavailable' | 'error' {
  if (isUnavailable(error)) return 'unavailable';
  return error instanceof PaymentsError ? 'declined' : 'error';
}

export function createProviderRouter(options: ProviderRouterOptions): ProviderRouter {
  const names = Object.keys(options.providers) as ProviderName[];
  const breakers = new Map(
    names.map((name) => [
      name,
      new CircuitBreaker<[Call], unknown>((call) => call(), {
        name,
        errorThresholdPercentage: options.breaker.errorThresholdPercentage,
        resetTimeout: options.breaker.resetTimeoutMs,
        volumeThreshold: options.breaker.volumeThreshold,
        rollingCountTimeout: options.breaker.rollingCountTimeoutMs,
        // The adapters enforce their own per-request deadline; a second one here would
        // abandon requests the provider may still complete.
        timeout: false,
        // true = "not a failure": declines and refused requests prove the provider is up.
        errorFilter: (error: unknown) => !isUnavailable(error),
      }),
    ]),
  );

  for (const [name, breaker] of breakers) {
    recordBreakerState(name, 'closed');
    breaker.on('open', () => recordBreakerState(name, 'open'));
    breaker.on('halfOpen', () => recordBreakerState(name, 'half_open'));
    breaker.on('close', () => recordBreakerState(name, 'closed'));
  }

  function breakerFor(name: ProviderName): CircuitBreaker<[Call], unknown> {
    const breaker = breakers.get(name);
    if (!breaker) throw new PaymentsError('parameter_invalid', `Unknown provider: ${name}.`, 'provider');
    return breaker;
  }

  async function through<T>(name: ProviderName, operation: ProviderOperation, call: () => Promise<T>): Promise<T> {
    const timer = providerRequestDuration.startTimer();
    try {
      const result = (await breakerFor(name).fire(call)) as T;
      timer({ provider: name, operation, outcome: 'success' });
      return result;
    } catch (error) {
      const open = (error as { code?: unknown }).code === 'EOPENBREAKER';
      const outcome = open ? 'breaker_open' : callOutcome(error);
      timer({ provider: name, operation, outcome });
      providerErrors.inc({ provider: name, operation, outcome });
      if (open) throw new ProviderUnavailableError(`${name} circuit is open; not calling it.`, false);
      throw error;
    }
  }

  function provider(name: ProviderName): PaymentProvider {
    const target = options.providers[name];
    if (!target) throw new PaymentsError('parameter_invalid', `Unknown provider: ${name}.`, 'provider');
    return target;
  }

  function forCharge(name: ProviderName): PaymentProvider {
    const target = provider(name);
    return {
      name,
      authorize: (request) => through(name, 'authorize', () => target.authorize(request)),
      capture: (request) => through(name, 'capture', () => target.capture(request)),
      void: (request) => through(name, 'void', () => target.void(request)),
      refund: (request) => through(name, 'refund', () => target.refund(request)),
      get: (chargeId) => through(name, 'get', () => target.get(chargeId)),
      findCharge: (request) => through(name, 'findCharge', () => target.findCharge(request)),
      findRefund: (request) => through(name, 'findRefund', () => target.findRefund(request)),
    };
  }

  async function authorize({
    provider: only,
    stopOnUnknownOutcome,
    ...request
  }: RoutedAuthorizeRequest): Promise<RoutedCharge> {
    const route = only ? [only] : (options.routing[request.currency] ?? options.defaultRoute);
    if (route.length === 0) {
      throw new PaymentsError('parameter_invalid', `No provider is routed for ${request.currency}.`, 'currency');
    }
    const failedAttempts: FailedAttempt[] = [];
    for (const name of route) {
      const target = provider(name);
      try {
        // Each provider gets its own key, so a retry reaches the same charge at the same
        // provider and two providers never see one key.
        const charge = await through(name, 'authorize', () =>
          target.authorize({ ...request, idempotencyKey: `${request.idempotencyKey}:${name}` }),
        );
        return { charge, failedAttempts };
      } catch (error) {
        if (!isUnavailable(error)) throw error;
        if (stopOnUnknownOutcome && outcomeMayBeUnknown(error)) {
          const serverError = error instanceof ProviderUnavailableError && error.serverError;
          throw new OutcomeUnknownError((error as Error).message, name, serverError);
        }
        failedAttempts.push({
          provider: name,
          message: (error as Error).message,
          outcomeUnknown: error instanceof ProviderUnavailableError && error.outcomeUnknown,
        });
      }
    }
    throw new ProviderUnavailableError(
      `No provider could take the charge: ${failedAttempts.map((attempt) => `${attempt.provider}: ${attempt.message}`).join('; ')}`,
      failedAttempts.some((attempt) => attempt.outcomeUnknown),
    );
  }

  function settlementReports(name: ProviderName): SettlementReports {
    const reports = options.settlementReports?.[name];
    if (!reports) throw new PaymentsError('parameter_invalid', `No settlement reports from ${name}.`, 'provider');
    return reports;
  }

  function payouts(name: ProviderName): PayoutProvider {
    const client = options.payouts?.[name];
    if (!client) throw new PaymentsError('parameter_invalid', `No payouts through ${name}.`, 'provider');
    return client;
  }

  return {
    authorize,
    forCharge,
    settlementReports,
    payouts,
    breakerState(name) {
      const breaker = breakerFor(name);
      return breaker.opened ? 'open' : breaker.halfOpen ? 'half_open' : 'closed';
    },
    shutdown() {
      for (const breaker of breakers.values()) breaker.shutdown();
    },
  };
}
