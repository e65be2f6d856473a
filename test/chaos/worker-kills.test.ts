import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaosMoments, paymentCount, startChaosRun, type ChaosRun } from './harness.ts';
import { chaosSeed } from './seeded-random.ts';

// Scenario 1: the worker process is SIGKILLed three times at seeded moments while 200
// payments, their captures, cancels and refunds are in flight (and the simulator's webhooks
// storm in), and started again each time. Proves that a crash loses nothing and repeats
// nothing: local activities cut short are run again under the same keys.

const kills = 3;
const workerMinLifeMs = 2_000;

describe('chaos: the worker process SIGKILLed under load', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await startChaosRun({ scenario: 'worker-kills', seed: chaosSeed() });
  });
  afterAll(async () => {
    await run?.close();
  });

  it(`${paymentCount} payments, ${kills} kills: every payment final and matched, books balanced`, async () => {
    const moments = chaosMoments(run.random, kills);
    const verdict = await run.loadUnderChaos(async (clock) => {
      let earliestMs = 0;
      for (const moment of moments) {
        await clock.at(Math.max(moment, earliestMs));
        clock.log('SIGKILL worker');
        await run.killAndRestartWorker();
        clock.log('worker restarted');
        // A worker killed the moment it polls has nothing in flight: let it take some work first.
        earliestMs = clock.elapsedMs() + workerMinLifeMs;
      }
    });
    expect(verdict.failures).toEqual([]);
    expect(verdict.counts.match).toBe(verdict.rows.length);
  });
});
