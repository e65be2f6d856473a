import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentCount, startChaosRun, type ChaosClock, type ChaosRun } from './harness.ts';
import { metricSum } from './metric-lines.ts';
import { chaosSeed } from './seeded-random.ts';

// Scenario 4: the providers fail under the same load, one way after another (simulator
// /admin/faults): stripe down (USD routes to stripe first), stripe slower than our deadline,
// both answering 30 % of requests 503, both down. Proves that the breaker opens and routing
// falls back to paypal, that a payment nobody can take fails cleanly (nothing charged, no
// authorization left open), that slow answers are looked up, not charged twice, and that the
// breakers close again once the providers recover.

/** Our deadline per provider request; the slowness below is longer. */
const providerTimeoutMs = 2_000;
const breakerResetMs = 2_000;
const recoveryBudgetMs = 30_000;
const bothDownSeconds = 5;

type Fault = { provider?: 'stripe' | 'paypal'; outage_seconds?: number; latency_ms?: number; error_rate?: number };

async function fault(run: ChaosRun, clock: ChaosClock, what: Fault | 'clear'): Promise<void> {
  const response =
    what === 'clear'
      ? await run.stack.sim.inject({ method: 'DELETE', url: '/admin/faults' })
      : await run.stack.sim.inject({ method: 'POST', url: '/admin/faults', payload: what });
  if (response.statusCode !== 200) throw new Error(`fault not set: ${response.body}`);
  clock.log(`faults: ${JSON.stringify(what)}`);
}

const breakerState = (metrics: string, provider: string, state: string) =>
  metricSum(metrics, 'provider_circuit_breaker_state', { provider, state });

describe('chaos: provider outages and slowness under load', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await startChaosRun({
      scenario: 'provider-faults',
      seed: chaosSeed(),
      config: { providerTimeoutMs },
      workerSettings: { BREAKER_RESET_TIMEOUT_MS: String(breakerResetMs), BREAKER_VOLUME_THRESHOLD: '5' },
    });
  });
  afterAll(async () => {
    await run?.close();
  });

  /** Until both breakers are closed: a payment at a provider whose breaker is not, now and then. */
  async function recover(clock: ChaosClock): Promise<boolean> {
    const deadline = Date.now() + recoveryBudgetMs;
    for (let probe = 0; Date.now() < deadline; probe++) {
      const metrics = await run.workerMetrics();
      const open = (['stripe', 'paypal'] as const).filter((name) => breakerState(metrics, name, 'closed') !== 1);
      if (open.length === 0) return true;
      for (const provider of open) {
        await run.client.post(
          '/v1/payments',
          { amount: 1_000, currency: 'USD', source: { type: 'card', token: 'tok_visa', provider } },
          `recovery-probe-${run.seed}-${provider}-${probe}`,
        );
      }
      await clock.at(clock.elapsedMs() + 500);
    }
    return false;
  }

  it(`${paymentCount} payments through outages and slowness: fallback, clean failures, breakers close`, async () => {
    const jitter = () => Math.floor(run.random() * 500);
    let recovered = false;
    const verdict = await run.loadUnderChaos(async (clock) => {
      await clock.at(500 + jitter());
      await fault(run, clock, { provider: 'stripe', outage_seconds: 4 });
      await clock.at(5_000 + jitter());
      await fault(run, clock, { provider: 'stripe', latency_ms: providerTimeoutMs + 1_000 });
      await clock.at(7_500 + jitter());
      await fault(run, clock, 'clear');
      await fault(run, clock, { error_rate: 0.3 });
      await clock.at(9_500 + jitter());
      // Longer than an authorization's retries (4 attempts within about 2 s): payments sent now fail.
      await fault(run, clock, { outage_seconds: bothDownSeconds });
      await clock.at(9_500 + bothDownSeconds * 1_000 + 1_000);
      await fault(run, clock, 'clear');
      recovered = await recover(clock);
      clock.log(recovered ? 'both breakers closed' : 'breakers still not closed');
    });

    const metrics = await run.workerMetrics();
    // The stripe breaker opened: calls were turned away without reaching stripe.
    expect(
      metricSum(metrics, 'provider_errors_total', { provider: 'stripe', outcome: 'breaker_open' }),
    ).toBeGreaterThan(0);
    expect(recovered).toBe(true);
    // Routing fell back: USD goes to stripe first, so paypal charges came from the fallback.
    const stats = (await run.stack.sim.inject({ method: 'GET', url: '/admin/stats' })).json();
    expect(stats.paypal.charges).toBeGreaterThan(0);
    // Payments nobody could take failed as provider_unavailable; the verdict checked that none
    // left a charge or a hold behind.
    const unavailable = await run.stack.prisma.payment.count({ where: { failureCode: 'provider_unavailable' } });
    console.log(
      `[chaos provider-faults] ${unavailable} payments failed provider_unavailable, ${stats.paypal.charges} paypal charges`,
    );
    expect(unavailable).toBeGreaterThan(0);
    expect(verdict.failures).toEqual([]);
    expect(verdict.counts.match).toBe(verdict.rows.length);
  });
});
