import type { ProviderName } from '../providers/provider.ts';

// A provider call that times out or loses its connection leaves its step unknown, not failed:
// the provider may have charged, captured, voided or refunded without our hearing it. The
// payment workflow then asks the provider what happened, on a schedule, and goes on from its
// answer; it never sends the step again blind.

const secondMs = 1_000;
const minuteMs = 60 * secondMs;
const hourMs = 60 * minuteMs;
const dayMs = 24 * hourMs;

/**
 * How long the workflow waits before each lookup of an unknown step, each wait counted from
 * the previous lookup: quick at first, when most lost answers can already be read, then daily,
 * as mature billing systems retry. After the last lookup the payment requires attention
 * (about 3 days and 1 hour after the step).
 */
export const defaultOutcomeLookupScheduleMs: readonly number[] = [
  5 * secondMs,
  30 * secondMs,
  5 * minuteMs,
  hourMs,
  dayMs,
  dayMs,
  dayMs,
];

/** A longer schedule is a configuration mistake: each lookup adds to the payment's history. */
export const maxOutcomeLookups = 50;

/** The provider steps whose outcome can be unknown. */
export type UnknownStep = 'authorize' | 'capture' | 'void' | 'refund';

/** An attempt at a provider step: its answer, or no answer that tells what happened. */
export type StepAttempt<T> =
  { outcome: 'done'; value: T } | { outcome: 'unknown'; provider: ProviderName; reason: string };

/** What a lookup found out about a step whose answer never came. */
export type StepLookup<T> =
  /** The provider did it. */
  | { found: 'done'; value: T }
  /** The provider has it declined (an authorization only). */
  | { found: 'declined'; code: 'card_declined' | 'insufficient_funds' }
  /** The provider did not do it. */
  | { found: 'not_done' }
  /** The provider could not tell (unreachable, timed out, the request still running). */
  | { found: 'unknown'; reason: string };

/** The schedule a payment runs with: its own setting, or the default for inputs without one. */
export function outcomeLookupScheduleOf(settings: { outcomeLookupScheduleMs?: readonly number[] }): readonly number[] {
  return settings.outcomeLookupScheduleMs ?? defaultOutcomeLookupScheduleMs;
}

/** Why a schedule cannot be used, or undefined when it can. */
export function outcomeLookupScheduleProblem(schedule: readonly number[]): string | undefined {
  if (schedule.length === 0) return 'needs at least one wait';
  if (schedule.length > maxOutcomeLookups) return `takes at most ${maxOutcomeLookups} waits`;
  if (schedule.some((waitMs) => !Number.isSafeInteger(waitMs) || waitMs <= 0)) {
    return 'waits must be positive integers of milliseconds';
  }
  return undefined;
}
