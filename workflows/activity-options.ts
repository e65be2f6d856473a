import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { nonRetryableErrorCodes } from '../src/domain/errors.ts';
import { forwardRecoveryWindowMs } from '../src/domain/hold-expiry.ts';

// Named activity options: every activity has explicit timeouts and a bounded retry policy.
// Typed business errors (validation, insufficient funds) are never retried; outages are.

/** A single PostgreSQL transaction through the ledger service. */
export const ledgerActivity: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 20,
    nonRetryableErrorTypes: nonRetryableErrorCodes,
  },
};

/**
 * Compensations must finish: they retry until they succeed, with a longer window. Losing a
 * release would leave a customer's funds held.
 */
export const compensationActivity: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
  },
};

/**
 * Calls to a card provider. Attempts are few and quick: a provider that is down is handled by
 * the router's fallback inside one attempt, and a decline is final at once. Each attempt
 * carries the same idempotency key, so retries never charge twice.
 */
export const providerActivity: ActivityOptions = {
  // Two providers at PROVIDER_TIMEOUT_MS (5 s) each fit. The activities heartbeat every
  // second, so a worker that dies mid-call is noticed within the heartbeat timeout; the retry
  // reuses the idempotency key.
  startToCloseTimeout: '15 seconds',
  heartbeatTimeout: '3 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '5 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: nonRetryableErrorCodes,
  },
};

/**
 * Ledger postings that follow an irreversible provider step: they must land, so they retry
 * for days (an outage of PostgreSQL delays the books; it never loses the money).
 */
export const forwardRecoveryActivity: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: forwardRecoveryWindowMs,
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: nonRetryableErrorCodes,
  },
};

// Local activities: run by the worker that runs the workflow task, recorded as one marker
// event each, with no task of their own on the server. The payment workflow's steps are all
// short (a PostgreSQL transaction, a provider call bounded by PROVIDER_TIMEOUT_MS), so a
// payment's steps complete inside one or two workflow tasks. A worker that dies mid-step
// loses its workflow task; the next worker runs the step again with the same idempotency key.

/** One PostgreSQL transaction of a payment transition. */
export const recordLocalActivity: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '5 minutes',
  retry: ledgerActivity.retry,
};

/**
 * A transition with a ledger posting that follows an irreversible step (the provider captured
 * or refunded, a hold was taken): retried for days, as forwardRecoveryActivity.
 */
export const forwardRecoveryLocalActivity: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: forwardRecoveryWindowMs,
  retry: forwardRecoveryActivity.retry,
};

/** A call to a card provider: few quick attempts with the same key, as providerActivity. */
export const providerLocalActivity: LocalActivityOptions = {
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: providerActivity.retry,
};

/** Releasing what an authorization holds at a provider: retried until it succeeds, bounded. */
export const compensationLocalActivity: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: compensationActivity.retry,
};

/**
 * A read at a provider about a step whose answer never came. The activity reports a provider
 * that cannot answer as `unknown` instead of failing, so these attempts only cover a worker
 * that fails mid-read; the lookup schedule decides when to ask again.
 */
export const lookupLocalActivity: LocalActivityOptions = {
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3 },
};
