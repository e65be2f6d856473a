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
