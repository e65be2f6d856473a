import { continueAsNew, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from './activity-types.ts';
import type { DeliveryFailureReason } from '../activities/deliveries.ts';
import { deliveryAttemptActivity, deliveryRecordActivity } from './delivery-options.ts';

export interface DeliverySchedule {
  /** First wait after a failed attempt; doubles up to maxRetryMs. */
  initialRetryMs: number;
  maxRetryMs: number;
  /** No attempt starts later than this after the first one; then the delivery is failed. */
  maxAgeMs: number;
  /** Deadline of one POST. */
  timeoutMs: number;
  /** When the delivery fails, its endpoint is disabled if it has had no success for this long. */
  endpointDisableAfterMs: number;
}

export interface DeliveryInput {
  deliveryId: string;
  schedule: DeliverySchedule;
  /** Carried over continue-as-new; absent on the first run. */
  resume?: { nextAttempt: number; firstAttemptAtMs: number; delayMs: number };
}

export interface DeliveryResult {
  deliveryId: string;
  status: 'succeeded' | 'failed';
  attempts: number;
  failureReason: DeliveryFailureReason | null;
  endpointDisabled: boolean;
}

/** The wait after a failed attempt, given the previous one: doubling, capped. */
export function nextDelay(previousMs: number, schedule: Pick<DeliverySchedule, 'initialRetryMs' | 'maxRetryMs'>) {
  return Math.min(previousMs * 2, Math.max(schedule.maxRetryMs, schedule.initialRetryMs, 1));
}

/**
 * Delivers one event to one endpoint (workflow id = delivery id): POST, and after a failure a
 * durable timer with exponential backoff (longer when the receiver's Retry-After asks), until a 2xx or until the next attempt would start
 * more than maxAgeMs after the first. Then the delivery is failed (the dead-letter list,
 * replayable) and the endpoint disabled if it has been failing for too long. A disabled or
 * deleted endpoint, or a 410 Gone (which disables it), ends the loop at that attempt.
 */
export async function deliveryWorkflow(input: DeliveryInput): Promise<DeliveryResult> {
  const { deliveryId, schedule } = input;
  const { attemptDelivery } = proxyActivities<Pick<Activities, 'attemptDelivery'>>(
    deliveryAttemptActivity(schedule.timeoutMs),
  );
  const { failDelivery } = proxyActivities<Pick<Activities, 'failDelivery'>>(deliveryRecordActivity);

  let firstAttemptAtMs = input.resume?.firstAttemptAtMs;
  let delayMs = input.resume?.delayMs ?? Math.max(schedule.initialRetryMs, 1);
  const fail = async (attempts: number, reason: DeliveryFailureReason): Promise<DeliveryResult> => {
    const { endpointDisabled } = await failDelivery({
      deliveryId,
      reason,
      endpointDisableAfterMs: schedule.endpointDisableAfterMs,
    });
    return { deliveryId, status: 'failed', attempts, failureReason: reason, endpointDisabled };
  };

  for (let attempt = input.resume?.nextAttempt ?? 1; ; attempt++) {
    const result = await attemptDelivery({ deliveryId, attempt, timeoutMs: schedule.timeoutMs });
    if (result.ok) {
      return { deliveryId, status: 'succeeded', attempts: attempt, failureReason: null, endpointDisabled: false };
    }
    if (result.stop) return fail(attempt, 'endpoint_disabled');
    firstAttemptAtMs ??= result.attemptedAtMs;
    const nowMs = result.attemptedAtMs + result.durationMs;
    // A receiver's Retry-After lengthens the wait, never shortens it. Results recorded before the
    // field existed have none, so their histories replay the same timers.
    const waitMs = Math.max(delayMs, result.retryAfterMs ?? 0);
    if (nowMs + waitMs - firstAttemptAtMs > schedule.maxAgeMs) return fail(attempt, 'max_age_exceeded');
    await sleep(waitMs);
    delayMs = nextDelay(delayMs, schedule);
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof deliveryWorkflow>({
        deliveryId,
        schedule,
        resume: { nextAttempt: attempt + 1, firstAttemptAtMs, delayMs },
      });
    }
  }
}
