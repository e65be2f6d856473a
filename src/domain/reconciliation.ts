import type { ProviderName } from '../providers/provider.ts';

// Reconciliation's vocabulary, pure so the workflows, activities and API share it: the day a
// run covers (a UTC calendar day, YYYY-MM-DD), its workflow id, and the kinds of mismatch.

export interface ReconciliationTarget {
  provider: ProviderName;
  /** ISO 4217, upper case. */
  currency: string;
  /** UTC day, YYYY-MM-DD. */
  date: string;
}

export const mismatchKinds = ['missing_in_ledger', 'missing_at_provider', 'amount_mismatch', 'duplicate'] as const;
export type MismatchKind = (typeof mismatchKinds)[number];

export const dayMs = 24 * 60 * 60 * 1000;

/** Start of a YYYY-MM-DD day in UTC, or undefined when the text is not a calendar date. */
export function utcDayStartMs(date: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const startMs = Date.parse(`${date}T00:00:00.000Z`);
  if (!Number.isFinite(startMs) || new Date(startMs).toISOString().slice(0, 10) !== date) return undefined;
  return startMs;
}

/** The UTC day an instant falls in. */
export function utcDayOf(atMs: number): string {
  return new Date(atMs).toISOString().slice(0, 10);
}

/** The UTC day before the one an instant falls in: what a run scheduled at that instant covers. */
export function utcDayBefore(atMs: number): string {
  return utcDayOf(atMs - dayMs);
}

/** One run per provider, currency and day at a time: a second start joins or follows it. */
export function reconciliationWorkflowId(target: ReconciliationTarget): string {
  return `reconciliation:${target.provider}:${target.currency}:${target.date}`;
}
