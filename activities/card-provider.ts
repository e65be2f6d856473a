import { Context } from '@temporalio/activity';
import type { ProviderCharge, ProviderGateway, ProviderName } from '../src/providers/provider.ts';
import { PaymentsError, errorCatalog } from '../src/domain/errors.ts';

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
async function logged<T>(context: Context, call: () => Promise<T>): Promise<T> {
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

export function createCardProviderActivities(providers: ProviderGateway) {
  return {
    async authorizeCard(input: AuthorizeCardInput): Promise<ProviderCharge & { orphanProviders?: ProviderName[] }> {
      const { charge, failedAttempts } = await heartbeating(() =>
        providers.authorize({ ...input, idempotencyKey: `${input.paymentId}:authorize` }),
      );
      // Only a provider that may have processed the request can hold an orphan authorization.
      const orphanProviders = failedAttempts
        .filter((attempt) => attempt.outcomeUnknown)
        .map((attempt) => attempt.provider);
      return orphanProviders.length > 0 ? { ...charge, orphanProviders } : charge;
    },

    /**
     * After a fallback, a provider that timed out may still have authorized (or charged) under
     * `<payment id>:authorize:<provider>`. Repeating that exact request with the same key is how a
     * provider tells what it did (Stripe replays the stored answer); whatever it holds is then
     * voided, or refunded if it was captured. If the first request never arrived, the repeat
     * authorizes now and is released at once: the customer is never left charged twice.
     */
    async releaseOrphanAuthorizations(input: Omit<AuthorizeCardInput, 'provider'> & { providers: ProviderName[] }) {
      for (const name of input.providers) {
        const provider = providers.forCharge(name);
        let orphan: ProviderCharge;
        try {
          orphan = await provider.authorize({
            idempotencyKey: `${input.paymentId}:authorize:${name}`,
            paymentId: input.paymentId,
            amount: input.amount,
            currency: input.currency,
            token: input.token,
            capture: input.capture,
          });
        } catch (error) {
          if (error instanceof PaymentsError && !errorCatalog[error.code].retryable) continue; // declined: nothing held
          throw error;
        }
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
