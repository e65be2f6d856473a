import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { PaymentsError } from '../src/domain/errors.ts';
import type { StepAttempt, StepLookup } from '../src/domain/outcome-lookup.ts';
import {
  OutcomeUnknownError,
  outcomeMayBeUnknown,
  ProviderUnavailableError,
  type ProviderCharge,
  type ProviderGateway,
  type ProviderName,
  type ProviderRefund,
} from '../src/providers/provider.ts';
import type { ProviderAttemptLog } from '../src/providers/provider-attempts.ts';
import { logged, type AuthorizeCardInput } from './card-provider.ts';

// The card steps of the payment workflow's lookup policy (workflows/card-outcomes.ts): each
// step is sent with its usual key, and an answer that never came is reported as `unknown`
// instead of being retried blind; lookups read what the provider did. Keys are
// those of card-provider.ts, so a resend after a lookup that found nothing reaches the same
// request at the provider, and a request that did arrive is answered from its store.

/** A charge as a capture or void lookup reads it, or no answer. */
export type ChargeReading = { found: 'charge'; charge: ProviderCharge } | { found: 'unknown'; reason: string };

interface ChargeStepInput {
  paymentId: string;
  provider: ProviderName;
  chargeId: string;
}

interface RefundStepInput extends ChargeStepInput {
  refundId: string;
  amount: bigint;
}

const authorizeKey = (paymentId: string, provider: ProviderName) => `${paymentId}:authorize:${provider}`;
const refundKey = (paymentId: string, refundId: string) => `${paymentId}:refund:${refundId}`;

/**
 * A provider that answered a step with a server error (a 500: up, but failing) is asked again
 * with the same key, quickly, this many times in all, before the step counts as unknown: its
 * idempotency store answers for a request that did take effect. A step with no answer at all
 * (a timeout, a lost connection) is never sent again blind: it is looked up first.
 */
const serverErrorAttempts = 3;
const serverErrorRetryDelayMs = 200;

/**
 * Runs a step; an error that may hide the step's effect at `provider` becomes `unknown`.
 * Anything else (a decline, a provider that surely turned the request away) is thrown, and the
 * activity's retry policy handles it as before. `step` gets the provider to send to: the one
 * an earlier try stopped at, so a retry reaches the same request.
 */
async function attempt<T>(
  provider: ProviderName | undefined,
  step: (pinned: ProviderName | undefined) => Promise<T>,
): Promise<StepAttempt<T>> {
  let pinned = provider;
  for (let tries = 1; ; tries++) {
    try {
      return { outcome: 'done', value: await logged(Context.current(), () => step(pinned)) };
    } catch (error) {
      const at = error instanceof OutcomeUnknownError ? error.provider : pinned;
      if (!at || !outcomeMayBeUnknown(error)) throw error;
      const serverError = error instanceof ProviderUnavailableError && error.serverError;
      if (!serverError || tries >= serverErrorAttempts) {
        return { outcome: 'unknown', provider: at, reason: (error as Error).message };
      }
      pinned = at;
      await sleep(serverErrorRetryDelayMs * tries);
    }
  }
}

/** Runs a read; a provider that cannot answer it (down, slow, refusing) makes it `unknown`. */
async function read<T>(lookup: () => Promise<T>): Promise<T | { found: 'unknown'; reason: string }> {
  try {
    return await lookup();
  } catch (error) {
    if (error instanceof PaymentsError) return { found: 'unknown', reason: error.message };
    throw error;
  }
}

/**
 * `attempts`: where authorizations record the providers they were sent to, so a step run again
 * after a lost workflow task goes back to them (src/providers/router.ts). Captures, voids and
 * refunds need none: they go to the provider holding the payment's charge, never elsewhere.
 */
export function createCardOutcomeActivities(providers: ProviderGateway, attempts?: ProviderAttemptLog) {
  return {
    /**
     * Authorizes at the first provider of the route that takes the request; a provider that may
     * have acted without answering ends the attempt as `unknown` (no fallback: a second
     * provider charging too would take the customer's money twice until one is released).
     */
    async tryAuthorizeCard(input: AuthorizeCardInput): Promise<StepAttempt<ProviderCharge>> {
      // The router names the provider it stopped at; a retry goes to that one only.
      return attempt(input.provider, async (pinned) => {
        const routed = await providers.authorize({
          ...input,
          provider: pinned,
          idempotencyKey: `${input.paymentId}:authorize`,
          stopOnUnknownOutcome: true,
          attempts,
        });
        return routed.charge;
      });
    },

    async tryCaptureCard(input: ChargeStepInput & { amount: bigint }): Promise<StepAttempt<ProviderCharge>> {
      return attempt(input.provider, () =>
        providers.forCharge(input.provider).capture({
          idempotencyKey: `${input.paymentId}:capture`,
          chargeId: input.chargeId,
          amount: input.amount,
        }),
      );
    },

    async tryVoidCard(input: ChargeStepInput): Promise<StepAttempt<ProviderCharge>> {
      return attempt(input.provider, () =>
        providers
          .forCharge(input.provider)
          .void({ idempotencyKey: `${input.paymentId}:void`, chargeId: input.chargeId }),
      );
    },

    async tryRefundCard(input: RefundStepInput): Promise<StepAttempt<ProviderRefund>> {
      return attempt(input.provider, () =>
        providers.forCharge(input.provider).refund({
          idempotencyKey: refundKey(input.paymentId, input.refundId),
          chargeId: input.chargeId,
          amount: input.amount,
          ids: { paymentId: input.paymentId, refundId: input.refundId },
        }),
      );
    },

    /** The charge the payment's authorization made at `provider`, if any. */
    async lookUpCardCharge(input: { paymentId: string; provider: ProviderName }): Promise<StepLookup<ProviderCharge>> {
      return read(async () => {
        const found = await providers
          .forCharge(input.provider)
          .findCharge({ idempotencyKey: authorizeKey(input.paymentId, input.provider), paymentId: input.paymentId });
        if (found.found === 'charge') return { found: 'done', value: found.charge } as const;
        if (found.found === 'declined') return found;
        return { found: 'not_done' } as const;
      });
    },

    /** The charge as it is now: whether a capture or void took effect. */
    async readCardCharge(input: ChargeStepInput): Promise<ChargeReading> {
      return read(async () => ({
        found: 'charge' as const,
        charge: await providers.forCharge(input.provider).get(input.chargeId),
      }));
    },

    /** The refund a refund request made, if any. */
    async lookUpCardRefund(input: Omit<RefundStepInput, 'amount'>): Promise<StepLookup<ProviderRefund>> {
      return read(async () => {
        const refund = await providers.forCharge(input.provider).findRefund({
          idempotencyKey: refundKey(input.paymentId, input.refundId),
          chargeId: input.chargeId,
          refundId: input.refundId,
        });
        return refund ? ({ found: 'done', value: refund } as const) : ({ found: 'not_done' } as const);
      });
    },
  };
}
