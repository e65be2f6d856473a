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
