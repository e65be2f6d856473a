import type { ActivityOptions } from '@temporalio/workflow';
import { nonRetryableErrorCodes } from '../src/domain/errors.ts';

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
  scheduleToCloseTimeout: '7 days',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: nonRetryableErrorCodes,
  },
};
