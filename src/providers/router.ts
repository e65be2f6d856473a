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
import type { ProviderAttempt, ProviderAttemptLog } from './provider-attempts.ts';

// Picks a provider per currency and keeps one circuit breaker per provider. Only
// provider_unavailable counts against a breaker: a decline means the provider works.
// A new charge may fall back to the next provider on the route; an existing charge can only
// be captured, voided or refunded where it lives. A new charge sent before (a step run again
// after its workflow task was lost) goes back to the providers it was sent to first.

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
  /**
   * Sticky routing: each provider is written here before its first call for this step (keyed by
   * `idempotencyKey`), and a step sent before goes back to those providers first, the last one
   * first, with the same keys. One of them is passed over only when it surely turned away every
   * call before and does again now (or its circuit is open); otherwise (no answer now, a call
   * before cut off or unanswered) it may hold the charge: the attempt ends with OutcomeUnknownError.
   */
  attempts?: ProviderAttemptLog | undefined;
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

/** An open circuit: the call was not made. */
class BreakerOpenError extends ProviderUnavailableError {}

function isUnavailable(error: unknown): boolean {
  return error instanceof PaymentsError && error.code === 'provider_unavailable';
}

/**
 * Providers an earlier run of the step was sent to, other than the one that charged now, whose
 * call there may have been made without an answer: the caller releases what they may hold.
 */
function unansweredBefore(earlier: ProviderAttempt[], charged: ProviderName, known: FailedAttempt[]): FailedAttempt[] {
  return earlier
    .filter((attempt) => attempt.provider !== charged && !attempt.refused)
    .filter((attempt) => !known.some((failed) => failed.provider === attempt.provider))
    .map((attempt) => ({ provider: attempt.provider, message: 'sent before; no answer known', outcomeUnknown: true }));
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
      if (open) throw new BreakerOpenError(`${name} circuit is open; not calling it.`, false);
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

  /** The route, after the providers this step was already sent to (the last one first). */
  function stickyRoute(route: ProviderName[], earlier: ProviderAttempt[]): ProviderName[] {
    const sent = earlier.map((attempt) => attempt.provider);
    return [...sent, ...route.filter((name) => !sent.includes(name))];
  }

  /**
   * A provider this step was sent to before may hold its charge unless it surely turned away
   * every call: only then is it passed over, when it turns the request away again or its circuit
   * is open. Anything else (no answer now, a call before that may have acted) ends the attempt
   * unknown: another provider could charge a second time.
   */
  function mustNotPassOver(error: unknown, before: ProviderAttempt | undefined): boolean {
    if (!before) return false;
    return !before.refused || outcomeMayBeUnknown(error);
  }

  async function authorize({
    provider: only,
    stopOnUnknownOutcome,
    attempts,
    ...request
  }: RoutedAuthorizeRequest): Promise<RoutedCharge> {
    const route = only ? [only] : (options.routing[request.currency] ?? options.defaultRoute);
    if (route.length === 0) {
      throw new PaymentsError('parameter_invalid', `No provider is routed for ${request.currency}.`, 'currency');
    }
    const stepKey = request.idempotencyKey;
    const earlier = attempts ? await attempts.attempted(stepKey) : [];
    const failedAttempts: FailedAttempt[] = [];
    for (const name of only ? route : stickyRoute(route, earlier)) {
      const target = provider(name);
      const before = earlier.find((attempt) => attempt.provider === name);
      try {
        // Each provider gets its own key, so a retry reaches the same charge at the same
        // provider and two providers never see one key. The attempt is written inside the
        // breaker: an open circuit sends nothing, so it attempts nothing.
        const charge = await through(name, 'authorize', async () => {
          await attempts?.sending(stepKey, request.paymentId, name);
          return target.authorize({ ...request, idempotencyKey: `${stepKey}:${name}` });
        });
        return { charge, failedAttempts: [...failedAttempts, ...unansweredBefore(earlier, name, failedAttempts)] };
      } catch (error) {
        if (!isUnavailable(error)) throw error;
        const serverError = error instanceof ProviderUnavailableError && error.serverError;
        if (mustNotPassOver(error, before) || (stopOnUnknownOutcome && outcomeMayBeUnknown(error))) {
          throw new OutcomeUnknownError((error as Error).message, name, serverError);
        }
        // Still "every call refused" only if the calls before this one were refused too.
        const calledAndRefused = !(error instanceof BreakerOpenError) && !outcomeMayBeUnknown(error);
        if (calledAndRefused && (before?.refused ?? true)) await attempts?.refused(stepKey, name);
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
