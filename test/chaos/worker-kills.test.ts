import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWindowMs, paymentCount, startChaosRun, type ChaosRun } from './harness.ts';
import { between, chaosSeed } from './seeded-random.ts';

// Scenario 1: the worker process is SIGKILLed three times at seeded moments while 200
// payments, their captures, cancels and refunds are in flight (and the simulator's webhooks
// storm in), and started again each time. Proves that a crash loses nothing and repeats
// nothing: local activities cut short are run again under the same keys.

const kills = 3;

describe('chaos: the worker process SIGKILLed under load', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await startChaosRun({ scenario: 'worker-kills', seed: chaosSeed() });
  });
  afterAll(async () => {
    await run?.close();
  });

  it(`${paymentCount} payments, ${kills} kills: every payment final and matched, books balanced`, async () => {
    // Spread over the load window, at least two seconds apart, the first after the first payments.
    const moments = Array.from({ length: kills }, (_, index) => {
      const slot = (loadWindowMs + 4_000) / kills;
      return Math.floor(1_000 + index * slot + between(run.random, 0, slot - 2_000));
    });
    const verdict = await run.loadUnderChaos(async (clock) => {
      for (const moment of moments) {
        await clock.at(moment);
        clock.log('SIGKILL worker');
        await run.killAndRestartWorker();
        clock.log('worker restarted');
      }
    });
    expect(verdict.failures).toEqual([]);
    expect(verdict.counts.match).toBe(verdict.rows.length);
  });
});
