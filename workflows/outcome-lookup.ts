import { condition, sleep } from '@temporalio/workflow';
import type { StepAttempt, StepLookup } from '../src/domain/outcome-lookup.ts';
import { businessFailure } from './failures.ts';

// The lookup policy for a provider step whose answer never came (src/domain/outcome-lookup.ts):
// wait on a durable timer (a waiting payment costs nothing), ask the provider what it did, and
// go on from its answer. A lookup that finds the step not done is followed by a resend with the
// step's own key, which the provider answers from its store if the first request did arrive
// after all: never a second charge, capture or refund. Still unknown after the last lookup:
// the payment requires attention and waits for an operator to ask for another lookup.

/** How an unknown step ended. */
export type Resolution<T> =
  | { kind: 'done'; value: T }
  | { kind: 'declined'; code: 'card_declined' | 'insufficient_funds' }
  /** Not done, with nothing of ours left in flight: the step can be reported as not made. */
  | { kind: 'not_done' };

export interface UnknownOutcome<T> {
  /** What the step and its provider are, for the payment's events. */
  facts: Record<string, unknown>;
  lookUp(): Promise<StepLookup<T>>;
  /** The step sent again with its own key. */
  resend(): Promise<StepAttempt<T>>;
  /**
   * true: a last lookup that finds the step not done ends it as not made (an authorization,
   * capture or refund). false: the step has to happen (releasing an authorization), so it
   * is sent again after every such lookup, and left to an operator after the last one.
   */
  notDoneEnds: boolean;
}

/** The payment the step belongs to. */
export interface LookupHost {
  outcomeLookupScheduleMs(): readonly number[];
  /** How many times an operator asked for another lookup. */
  lookupRequests(): number;
  /** Moves the payment to requires_attention and announces it. */
  requireAttention(facts: Record<string, unknown>): Promise<void>;
}

export async function resolveUnknown<T>(host: LookupHost, outcome: UnknownOutcome<T>): Promise<Resolution<T>> {
  const schedule = host.outcomeLookupScheduleMs();
  for (const [index, waitMs] of schedule.entries()) {
    await sleep(waitMs);
    const resolution = await lookUpOnce(outcome, { final: index === schedule.length - 1 });
    if (resolution) return resolution;
  }
  // Counted before the payment shows requires_attention: a request sent as soon as it does
  // cannot be missed.
  let seen = host.lookupRequests();
  await host.requireAttention({ ...outcome.facts, lookups: schedule.length });
  for (;;) {
    await condition(() => host.lookupRequests() > seen);
    seen = host.lookupRequests();
    const resolution = await lookUpOnce(outcome, { final: true });
    if (resolution) return resolution;
  }
}

/**
 * One lookup, and a resend when it found the step not done; undefined while the step stays
 * unknown. A `final` lookup sends nothing after itself that could still be in flight.
 */
async function lookUpOnce<T>(outcome: UnknownOutcome<T>, { final }: { final: boolean }) {
  const found = await outcome.lookUp();
  switch (found.found) {
    case 'done':
      return { kind: 'done', value: found.value } as const;
    case 'declined':
      return { kind: 'declined', code: found.code } as const;
    case 'unknown':
      return undefined;
    case 'not_done':
      if (outcome.notDoneEnds && final) return { kind: 'not_done' } as const;
      return resend(outcome);
  }
}

async function resend<T>(outcome: UnknownOutcome<T>): Promise<Resolution<T> | undefined> {
  try {
    const attempt = await outcome.resend();
    return attempt.outcome === 'done' ? { kind: 'done', value: attempt.value } : undefined;
  } catch (error) {
    const failure = businessFailure(error);
    if (!failure) throw error;
    if (failure.type === 'card_declined' || failure.type === 'insufficient_funds') {
      return { kind: 'declined', code: failure.type };
    }
    // Turned away or refused: the next lookup tells what stands.
    return undefined;
  }
}
