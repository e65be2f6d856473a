import { simProviders, type SimProvider } from './options.ts';

// Fault injection, set over the admin API: extra latency, a share of 503 answers, a full
// outage for some seconds, and timeouts of chosen operations. Applies to the personality routes
// only (never /admin, /health). Besides, a share of accepted payouts that the bank later
// returns (payout.failed).

export interface FaultSettings {
  /** Probability (0..1) that a request answers 503. */
  errorRate: number;
  /** Added before every answer. */
  latencyMs: number;
  /** Every request answers 503 until this instant (epoch ms); 0 = no outage. */
  outageUntilMs: number;
  /** Probability (0..1) that an accepted payout is returned by the bank when it arrives. */
  payoutFailureRate: number;
}

export type FaultDecision = { latencyMs: number; unavailable: 'outage' | 'error' | undefined };

/** What a personality route does, for timeout faults aimed at one kind of request. */
export const simOperations = ['authorize', 'capture', 'void', 'refund', 'retrieve', 'lookup'] as const;
export type SimOperation = (typeof simOperations)[number];

/**
 * The next `remaining` requests of `operation` get no answer before their caller gives up:
 * with `processed`, the provider acts and only the answer is lost (the caller cannot tell which
 * happened); without, the request is lost before the provider sees it.
 */
export interface TimeoutFault {
  operation: SimOperation;
  processed: boolean;
  remaining: number;
  /** Only requests about this payment of ours (its key, its charge); any request when unset. */
  paymentId?: string | undefined;
}

const none = (): FaultSettings => ({ errorRate: 0, latencyMs: 0, outageUntilMs: 0, payoutFailureRate: 0 });

export class Faults {
  private readonly settings = new Map<SimProvider, FaultSettings>(simProviders.map((name) => [name, none()]));
  private readonly timeouts = new Map<SimProvider, TimeoutFault[]>(simProviders.map((name) => [name, []]));

  constructor(private readonly random: () => number = Math.random) {}

  set(
    providers: readonly SimProvider[],
    change: { errorRate: number; latencyMs: number; outageSeconds: number; payoutFailureRate?: number },
    nowMs: number,
  ): void {
    for (const provider of providers) {
      this.settings.set(provider, {
        errorRate: change.errorRate,
        latencyMs: change.latencyMs,
        outageUntilMs: change.outageSeconds > 0 ? nowMs + change.outageSeconds * 1000 : 0,
        payoutFailureRate: change.payoutFailureRate ?? 0,
      });
    }
  }

  /** Adds a timeout fault; faults for one operation are used in the order they were added. */
  addTimeout(providers: readonly SimProvider[], fault: TimeoutFault): void {
    for (const provider of providers) this.timeouts.get(provider)?.push({ ...fault });
  }

  clear(providers: readonly SimProvider[] = simProviders): void {
    for (const provider of providers) {
      this.settings.set(provider, none());
      this.timeouts.set(provider, []);
    }
  }

  decide(provider: SimProvider, nowMs: number): FaultDecision {
    const { errorRate, latencyMs, outageUntilMs } = this.settings.get(provider) ?? none();
    if (nowMs < outageUntilMs) return { latencyMs: 0, unavailable: 'outage' };
    return { latencyMs, unavailable: errorRate > 0 && this.random() < errorRate ? 'error' : undefined };
  }

  /**
   * Uses up one timeout of `operation` for a request about `paymentId` (when it names one), if
   * one is set: whether the request is processed.
   */
  takeTimeout(provider: SimProvider, operation: SimOperation, paymentId?: string): { processed: boolean } | undefined {
    const faults = this.timeouts.get(provider) ?? [];
    const fault = faults.find(
      (candidate) =>
        candidate.operation === operation && (candidate.paymentId === undefined || candidate.paymentId === paymentId),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(faults.indexOf(fault), 1);
    return { processed: fault.processed };
  }

  /** The share of arriving payouts the bank returns. */
  payoutFailureRate(provider: SimProvider): number {
    return (this.settings.get(provider) ?? none()).payoutFailureRate;
  }

  view(nowMs: number) {
    const view = (provider: SimProvider) => {
      const { errorRate, latencyMs, outageUntilMs, payoutFailureRate } = this.settings.get(provider) ?? none();
      return {
        error_rate: errorRate,
        latency_ms: latencyMs,
        outage_until: outageUntilMs > nowMs ? new Date(outageUntilMs).toISOString() : null,
        timeouts: (this.timeouts.get(provider) ?? []).map((fault) => ({
          operation: fault.operation,
          processed: fault.processed,
          remaining: fault.remaining,
          payment_id: fault.paymentId ?? null,
        })),
        payout_failure_rate: payoutFailureRate,
      };
    };
    return { stripe: view('stripe'), paypal: view('paypal') };
  }
}
