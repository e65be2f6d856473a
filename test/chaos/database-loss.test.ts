import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaosMoments, paymentCount, startChaosRun, type ChaosRun } from './harness.ts';
import { chaosSeed } from './seeded-random.ts';

// Scenario 2: PostgreSQL taken away under the same load: every connection of the API, the
// worker, the relay and the sweeper terminated (pg_terminate_backend) twice, and the server
// itself stopped and started once. Proves that a lost connection is an outage, not a bug:
// the API answers 503 and the retry succeeds, activities are retried by Temporal, and no
// posting is lost, doubled or left half-made (one statement per transition).

const postgresDownMs = 2_000;

describe('chaos: PostgreSQL connections terminated and the server restarted under load', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await startChaosRun({ scenario: 'database-loss', seed: chaosSeed() });
  });
  afterAll(async () => {
    await run?.close();
  });

  it(`${paymentCount} payments: every payment final and matched, books balanced`, async () => {
    const [first, second, third] = chaosMoments(run.random, 3, 3_000);
    const restartAt = [first, second, third][Math.floor(run.random() * 3)];
    const verdict = await run.loadUnderChaos(async (clock) => {
      for (const moment of [first, second, third] as number[]) {
        await clock.at(moment);
        if (moment === restartAt) {
          clock.log('PostgreSQL stopping');
          await run.services.restartPostgres(postgresDownMs);
          clock.log('PostgreSQL started again');
        } else {
          clock.log(`terminated ${await run.services.terminateConnections()} connections`);
        }
      }
    });
    expect(verdict.failures).toEqual([]);
    expect(verdict.counts.match).toBe(verdict.rows.length);
  });
});
