import { simProviders, type SimProvider } from './options.ts';

// Fault injection, set over the admin API: extra latency, a share of 503 answers, or a full
// outage for some seconds. Applies to the personality routes only (never /admin, /health).
// Besides, a share of accepted payouts that the bank later returns (payout.failed).

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

const none = (): FaultSettings => ({ errorRate: 0, latencyMs: 0, outageUntilMs: 0, payoutFailureRate: 0 });

export class Faults {
  private readonly settings = new Map<SimProvider, FaultSettings>(simProviders.map((name) => [name, none()]));

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

  clear(providers: readonly SimProvider[] = simProviders): void {
    for (const provider of providers) this.settings.set(provider, none());
  }

  decide(provider: SimProvider, nowMs: number): FaultDecision {
    const { errorRate, latencyMs, outageUntilMs } = this.settings.get(provider) ?? none();
    if (nowMs < outageUntilMs) return { latencyMs: 0, unavailable: 'outage' };
    return { latencyMs, unavailable: errorRate > 0 && this.random() < errorRate ? 'error' : undefined };
  }

  /** The share of arriving payouts the bank returns. */
  payoutFailureRate(provider: SimProvider): number {
    return (this.settings.get(provider) ?? none()).payoutFailureRate;
  }

  view(
    nowMs: number,
  ): Record<
    SimProvider,
    { error_rate: number; latency_ms: number; outage_until: string | null; payout_failure_rate: number }
  > {
    const view = (provider: SimProvider) => {
      const { errorRate, latencyMs, outageUntilMs, payoutFailureRate } = this.settings.get(provider) ?? none();
      return {
        error_rate: errorRate,
        latency_ms: latencyMs,
        outage_until: outageUntilMs > nowMs ? new Date(outageUntilMs).toISOString() : null,
        payout_failure_rate: payoutFailureRate,
      };
    };
    return { stripe: view('stripe'), paypal: view('paypal') };
  }
}
