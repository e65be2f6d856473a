import { Context } from '@temporalio/activity';
import { PaymentsError } from '../src/domain/errors.ts';
import type { ProviderCharge, ProviderGateway, ProviderName } from '../src/providers/provider.ts';
import type { ProviderAttemptLog } from '../src/providers/provider-attempts.ts';

// Calls to the card providers, for both payment workflow versions. Every call carries the key
// `<payment id>:<step>` (refunds `<payment id>:refund:<refund id>`), so a retried activity
// never charges, captures or refunds twice.

/** How often a provider call in flight tells Temporal its worker is alive. */
const heartbeatIntervalMs = 1_000;

/**
 * Runs a provider call while heartbeating, so a worker that dies mid-call is noticed after the
 * activity's heartbeatTimeout (seconds) rather than its whole startToCloseTimeout; the retry
 * then reuses the call's idempotency key. Local activities have no heartbeat: a dead worker's
 * workflow task times out instead and the next worker runs the call again with the same key.
 */
async function heartbeating<T>(call: () => Promise<T>): Promise<T> {
  const context = Context.current();
  if (context.info.isLocal) return logged(context, call);
  const timer = setInterval(() => context.heartbeat(), heartbeatIntervalMs);
  try {
    return await logged(context, call);
  } finally {
    clearInterval(timer);
  }
}

/**
 * One line per provider call, with the activity's ids (src/observability/activity-logging.ts):
 * the provider, its charge id and status, or the error code of a refusal; never the card token.
 */
export async function logged<T>(context: Context, call: () => Promise<T>): Promise<T> {
  try {
    const result = await call();
    const { charge } = (result ?? {}) as { charge?: ProviderCharge };
    const answer = (charge ?? result) as Partial<ProviderCharge> & { id?: string; status?: string };
    context.log.info('Provider call answered', {
      provider: answer.provider,
      chargeId: answer.chargeId,
      providerStatus: answer.status,
    });
    return result;
  } catch (error) {
    const code = error instanceof PaymentsError ? error.code : 'error';
    context.log.info('Provider call failed', { code });
    throw error;
  }
}

export interface AuthorizeCardInput {
  paymentId: string;
  amount: bigint;
  currency: string;
  token: string;
  provider?: ProviderName | undefined;
  /** Automatic capture: authorize and capture in one provider call. */
  capture: boolean;
}

/** `attempts`: where authorizations record the providers they were sent to (sticky routing). */
export function createCardProviderActivities(providers: ProviderGateway, attempts?: ProviderAttemptLog) {
  return {
    async authorizeCard(input: AuthorizeCardInput): Promise<ProviderCharge & { orphanProviders?: ProviderName[] }> {
      const { charge, failedAttempts } = await heartbeating(() =>
        providers.authorize({ ...input, idempotencyKey: `${input.paymentId}:authorize`, attempts }),
      );
      // Only a provider that may have processed the request can hold an orphan authorization.
      const orphanProviders = failedAttempts
        .filter((attempt) => attempt.outcomeUnknown)
        .map((attempt) => attempt.provider);
      return orphanProviders.length > 0 ? { ...charge, orphanProviders } : charge;
    },

    /**
     * After a fallback, a provider that timed out may still have authorized (or charged) under
     * `<payment id>:authorize:<provider>`. The provider is asked what that request made (a
     * lookup, never a resend, which would authorize now if the first request never arrived);
     * whatever it holds is voided, or refunded if it was captured. A provider that cannot tell
     * yet fails the activity, which the compensation policy retries.
     */
    async releaseOrphanAuthorizations(input: Omit<AuthorizeCardInput, 'provider'> & { providers: ProviderName[] }) {
      for (const name of input.providers) {
        const provider = providers.forCharge(name);
        const found = await provider.findCharge({
          idempotencyKey: `${input.paymentId}:authorize:${name}`,
          paymentId: input.paymentId,
        });
        if (found.found !== 'charge') continue; // declined or never made: nothing held
        const orphan = found.charge;
        if (orphan.status === 'authorized') {
          await provider.void({ idempotencyKey: `${input.paymentId}:orphan-void:${name}`, chargeId: orphan.chargeId });
        } else if (orphan.status === 'captured' && orphan.amountCaptured > orphan.amountRefunded) {
          await provider.refund({
            idempotencyKey: `${input.paymentId}:orphan-refund:${name}`,
            chargeId: orphan.chargeId,
            amount: orphan.amountCaptured - orphan.amountRefunded,
          });
        }
      }
    },

    async captureCard(input: { paymentId: string; provider: ProviderName; chargeId: string; amount: bigint }) {
      return heartbeating(() =>
        providers.forCharge(input.provider).capture({
          idempotencyKey: `${input.paymentId}:capture`,
          chargeId: input.chargeId,
          amount: input.amount,
        }),
      );
    },

    async voidCard(input: { paymentId: string; provider: ProviderName; chargeId: string }) {
      return heartbeating(() =>
        providers
          .forCharge(input.provider)
          .void({ idempotencyKey: `${input.paymentId}:void`, chargeId: input.chargeId }),
      );
    },

    async refundCard(input: {
      paymentId: string;
      refundId: string;
      provider: ProviderName;
      chargeId: string;
      amount: bigint;
    }) {
      return heartbeating(() =>
        providers.forCharge(input.provider).refund({
          idempotencyKey: `${input.paymentId}:refund:${input.refundId}`,
          chargeId: input.chargeId,
          amount: input.amount,
        }),
      );
    },
  };
}
