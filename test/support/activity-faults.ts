import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { correlationOf } from '../../src/observability/activity-logging.ts';

// Fault injection for the worker's real activities: a chosen activity of a chosen payment fails
// its first attempts, before it runs (the worker died on the way in) or after it ran (its
// effect happened, its answer was lost). The activity's retry policy sends the next attempt;
// activities are idempotent, so the effects must land once. A worker interceptor, so every
// activity stays the real one with its real dependencies.

export interface ActivityFault {
  /** The activity's name (activities/index.ts), e.g. recordTransition or tryCaptureCard. */
  activity: string;
  /** Each call of the activity for the payment fails attempts 1..attempts; the next one runs. */
  attempts: number;
  /** before: the activity never runs; after: it ran to the end and its result is lost. */
  when: 'before' | 'after';
}

/** Raised by an injected fault: an ordinary error, so the activity's retry policy retries it. */
export class InjectedFault extends Error {
  constructor(activity: string, attempt: number, when: ActivityFault['when']) {
    super(`injected fault: ${activity} attempt ${attempt} (${when})`);
    this.name = 'InjectedFault';
  }
}

export class ActivityFaults {
  private readonly byPayment = new Map<string, readonly ActivityFault[]>();
  private readonly interleavings = new Map<string, () => Promise<void>>();
  /** Attempts failed so far, by activity name. */
  readonly injected = new Map<string, number>();

  /** The faults of one payment, set before it starts. */
  plan(paymentId: string, faults: readonly ActivityFault[]): void {
    if (faults.length > 0) this.byPayment.set(paymentId, faults);
  }

  forget(paymentId: string): void {
    this.byPayment.delete(paymentId);
  }

  /**
   * Runs `action` once, right after the next successful call of `activity` for the payment and
   * before the workflow hears of it: something that happens while the workflow task is running.
   */
  after(paymentId: string, activity: string, action: () => Promise<void>): void {
    this.interleavings.set(`${paymentId}:${activity}`, action);
  }

  readonly interceptor: ActivityInterceptorsFactory = (context) => ({
    inbound: {
      execute: async (input, next) => {
        const { paymentId } = correlationOf(input.args);
        const { activityType, attempt } = context.info;
        const fault = paymentId
          ? this.byPayment.get(paymentId)?.find((candidate) => candidate.activity === activityType)
          : undefined;
        if (!fault || attempt > fault.attempts) return this.interleaved(`${paymentId}:${activityType}`, next(input));
        // A real failure of the attempt (a decline, say) is the activity's own answer: passed on.
        if (fault.when === 'after') await next(input);
        this.injected.set(activityType, (this.injected.get(activityType) ?? 0) + 1);
        throw new InjectedFault(activityType, attempt, fault.when);
      },
    },
  });

  private async interleaved<T>(key: string, result: Promise<T>): Promise<T> {
    const value = await result;
    const action = this.interleavings.get(key);
    if (action) {
      this.interleavings.delete(key);
      await action();
    }
    return value;
  }
}
