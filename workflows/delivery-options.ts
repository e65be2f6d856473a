import type { ActivityOptions } from '@temporalio/workflow';
import { nonRetryableErrorCodes } from '../src/domain/errors.ts';

// Activity options of the outbound delivery workflow. A receiver that fails is not an activity
// failure (the attempt is recorded and the workflow waits with a durable timer); activity
// retries only cover our own outages (PostgreSQL, a worker crash), so they go on for days.

const outageRetry = {
  initialInterval: '500 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '5 minutes',
  nonRetryableErrorTypes: nonRetryableErrorCodes,
};

/** Bookkeeping in one PostgreSQL transaction (mark failed, disable the endpoint). */
export const deliveryRecordActivity: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '7 days',
  retry: outageRetry,
};

/** Time for the database reads and writes around the POST itself. */
export const deliveryAttemptOverheadMs = 15_000;

/** One POST (bounded by its own timeoutMs) plus the reads and writes around it. */
export function deliveryAttemptActivity(timeoutMs: number): ActivityOptions {
  return {
    startToCloseTimeout: timeoutMs + deliveryAttemptOverheadMs,
    scheduleToCloseTimeout: '7 days',
    retry: outageRetry,
  };
}
