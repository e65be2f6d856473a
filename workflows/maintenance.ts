import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from './activity-types.ts';
import { ledgerActivity } from './activity-options.ts';
import { defaultMaxHoldsExpiredPerRun } from '../src/domain/hold-expiry.ts';

const { purgeIdempotencyKeys, checkLedgerIntegrity } =
  proxyActivities<Pick<Activities, 'purgeIdempotencyKeys' | 'checkLedgerIntegrity'>>(ledgerActivity);
// One round trip per expired hold, up to maxHoldsExpiredPerRun of them.
const { expireHolds } = proxyActivities<Pick<Activities, 'expireHolds'>>({
  ...ledgerActivity,
  startToCloseTimeout: '1 minute',
});

const { ensureRecordPartitions, purgeExpiredReferences } = proxyActivities<
  Pick<Activities, 'ensureRecordPartitions' | 'purgeExpiredReferences'>
>({ ...ledgerActivity, startToCloseTimeout: '1 minute' });

/** Since this patch a run also releases expired holds, before it checks the books. */
export const sweepExpiredHoldsPatch = 'maintenance-sweeps-expired-holds';

/**
 * Since this patch a run also creates recorded_payments partitions ahead and forgets payment
 * references past their retention (never ledger entries nor recorded payments).
 */
export const recordHousekeepingPatch = 'maintenance-record-partitions-and-retention';

/** Months of recorded_payments partitions kept ahead when the schedule passes none. */
const defaultRecordPartitionsMonthsAhead = 3;

/** Run by a Temporal Schedule (src/temporal/schedules.ts): housekeeping and the books' check. */
export async function maintenanceWorkflow(input: {
  idempotencyKeyTtlMs: number;
  maxHoldsExpiredPerRun?: number;
  recordPartitionsMonthsAhead?: number;
}): Promise<{
  purgedIdempotencyKeys: number;
  expiredHolds: number;
  ledgerDiscrepancies: number;
  recordPartitionsCreated?: number;
  expiredReferences?: number;
}> {
  const purgedIdempotencyKeys = await purgeIdempotencyKeys({ olderThanMs: input.idempotencyKeyTtlMs });
  let expiredHolds = 0;
  if (patched(sweepExpiredHoldsPatch)) {
    // A schedule created before the sweep existed passes no limit.
    const sweep = await expireHolds({ limit: input.maxHoldsExpiredPerRun ?? defaultMaxHoldsExpiredPerRun });
    expiredHolds = sweep.expired;
  }
  if (patched(recordHousekeepingPatch)) {
    const recordPartitionsCreated = await ensureRecordPartitions({
      monthsAhead: input.recordPartitionsMonthsAhead ?? defaultRecordPartitionsMonthsAhead,
    });
    const expiredReferences = await purgeExpiredReferences();
    const ledgerDiscrepancies = await checkLedgerIntegrity();
    return { purgedIdempotencyKeys, expiredHolds, ledgerDiscrepancies, recordPartitionsCreated, expiredReferences };
  }
  const ledgerDiscrepancies = await checkLedgerIntegrity();
  return { purgedIdempotencyKeys, expiredHolds, ledgerDiscrepancies };
}
