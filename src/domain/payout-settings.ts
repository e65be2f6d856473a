import { forwardRecoveryWindowMs } from './hold-expiry.ts';

// A merchant's payout settings (schedule, minimum amount) and a payout's timing. Pure: shared
// by the API, the payout workflows and their activities.

export const payoutSchedules = ['daily', 'weekly', 'manual'] as const;
export type PayoutSchedule = (typeof payoutSchedules)[number];

export function isPayoutSchedule(value: string): value is PayoutSchedule {
  return (payoutSchedules as readonly string[]).includes(value);
}

export interface MerchantPayoutSettings {
  /** daily: every run of the payout schedule; weekly: its Monday (UTC) run; manual: never (POST /v1/payouts only). */
  schedule: PayoutSchedule;
  /** The smallest payout, in minor units of the payout's currency. */
  minimumMinor: bigint;
}

/** What a merchant that set nothing gets (PAYOUT_DEFAULT_SCHEDULE, PAYOUT_MINIMUM_AMOUNT_MINOR). */
export type PayoutDefaults = MerchantPayoutSettings;

/** The merchant's stored settings (null: not set) over the platform's defaults. */
export function effectivePayoutSettings(
  stored: { schedule: string | null; minimumMinor: bigint | null },
  defaults: PayoutDefaults,
): MerchantPayoutSettings {
  const schedule = stored.schedule !== null && isPayoutSchedule(stored.schedule) ? stored.schedule : defaults.schedule;
  return { schedule, minimumMinor: stored.minimumMinor ?? defaults.minimumMinor };
}

/** Whether a run of the payout schedule on `date` (UTC day, YYYY-MM-DD) pays out this schedule. */
export function scheduleRunsOn(schedule: PayoutSchedule, date: string): boolean {
  if (schedule === 'daily') return true;
  if (schedule === 'manual') return false;
  // 1 = Monday.
  return new Date(`${date}T00:00:00.000Z`).getUTCDay() === 1;
}

/** A payout's timing, fixed when it starts (from the configuration) and carried in its input. */
export interface PayoutTiming {
  /** How long submitting the payout to the provider is retried, with the same idempotency key. */
  submitTimeoutMs: number;
  /** Then how long we look for it at the provider (it may have arrived with its answer lost). */
  lookupTimeoutMs: number;
  /** While in transit, the provider is asked for the outcome this often, should its webhook not come. */
  statusPollMs: number;
}

export const defaultPayoutTiming: PayoutTiming = {
  submitTimeoutMs: 60 * 60 * 1000,
  lookupTimeoutMs: 24 * 60 * 60 * 1000,
  statusPollMs: 60 * 60 * 1000,
};

/**
 * The payout's hold outlives every step that may still capture it: the submission, the lookup
 * after it, and the in-transit posting, retried for the forward-recovery window once the
 * provider has the payout. Only a hold its workflow lost track of is ever released by the sweep.
 */
export function payoutHoldExpiryMs(timing: PayoutTiming): number {
  return timing.submitTimeoutMs + timing.lookupTimeoutMs + forwardRecoveryWindowMs;
}
