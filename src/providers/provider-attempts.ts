import type { Db } from '../db/prisma.ts';
import { isConnectionLoss } from '../db/connection-loss.ts';
import type { ProviderName } from './provider-name.ts';

// Which providers a money-moving payment step was sent to, kept in PostgreSQL. The payment
// workflow's steps are local activities: a workflow task lost after one acted runs it again,
// and the router, left to itself, could then pick another provider than the one that charged
// (a provider back from an outage is first on the route again): two charges. The router writes
// a provider here before its first call there, in a statement of its own (never a transaction
// open across the call), and a step run again goes back to these providers first, with the
// same per-provider idempotency keys (src/providers/router.ts).

export interface ProviderAttempt {
  provider: ProviderName;
  /** Every call there was surely turned away (a 503, a refused connection): it holds nothing. */
  refused: boolean;
}

export interface ProviderAttemptLog {
  /** The providers `stepKey` was sent to, the last one first. */
  attempted(stepKey: string): Promise<ProviderAttempt[]>;
  /** Before a call: the provider is attempted (once per step), its call under way. */
  sending(stepKey: string, paymentId: string, provider: ProviderName): Promise<void>;
  /** After a call that was surely turned away, when every call before it was too. */
  refused(stepKey: string, provider: ProviderName): Promise<void>;
}

/**
 * How long a read or write of the log waits for PostgreSQL to come back within one activity
 * attempt. The card steps have few, quick attempts (workflows/activity-options.ts), meant for
 * providers; without this a database restart of a few seconds used them all up before any
 * provider was called, and failed the payment's workflow (found by npm run test:chaos).
 */
export const attemptLogReachMs = 8_000;
const attemptLogRetryIntervalMs = 250;

async function reaching<T>(statement: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + attemptLogReachMs;
  for (;;) {
    try {
      return await statement();
    } catch (error) {
      if (!isConnectionLoss(error) || Date.now() + attemptLogRetryIntervalMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, attemptLogRetryIntervalMs));
    }
  }
}

export function createProviderAttemptLog(db: Db): ProviderAttemptLog {
  return {
    async attempted(stepKey) {
      const rows = await reaching(
        () => db.$queryRaw<{ provider: ProviderName; refused: boolean }[]>`
        SELECT provider, refused FROM provider_attempts WHERE step_key = ${stepKey}
        ORDER BY attempted_at DESC, provider`,
      );
      return rows;
    },
    async sending(stepKey, paymentId, provider) {
      // attempted_at stays the first call's: the order is the order providers were first tried.
      await reaching(
        () => db.$executeRaw`
        INSERT INTO provider_attempts (step_key, provider, payment_id) VALUES (${stepKey}, ${provider}, ${paymentId})
        ON CONFLICT (step_key, provider) DO UPDATE SET refused = false WHERE provider_attempts.refused`,
      );
    },
    async refused(stepKey, provider) {
      await reaching(
        () => db.$executeRaw`
        UPDATE provider_attempts SET refused = true WHERE step_key = ${stepKey} AND provider = ${provider}`,
      );
    },
  };
}
