import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaosMoments, paymentCount, startChaosRun, type ChaosRun } from './harness.ts';
import { chaosSeed } from './seeded-random.ts';

// Scenario 3: the Temporal dev server (persistent, on its SQLite file) stopped and started
// again under the same load. Proves that workflows, timers and updates survive the server's
// restart: the API answers 503 while it is away, clients and the worker reconnect, and every
// payment goes on from where its history stood.

const temporalDownMs = 2_000;

describe('chaos: the Temporal server restarted under load', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await startChaosRun({ scenario: 'temporal-restart', seed: chaosSeed() });
  });
  afterAll(async () => {
    await run?.close();
  });

  it(`${paymentCount} payments: every payment final and matched, books balanced`, async () => {
    const [moment] = chaosMoments(run.random, 1);
    const verdict = await run.loadUnderChaos(async (clock) => {
      await clock.at(moment as number);
      clock.log('Temporal stopping');
      await run.services.restartTemporal(temporalDownMs);
      clock.log('Temporal started again');
    });
    expect(verdict.failures).toEqual([]);
    expect(verdict.counts.match).toBe(verdict.rows.length);
  });
});
