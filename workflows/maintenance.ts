import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.ts';
import { ledgerActivity } from './activity-options.ts';

const { purgeIdempotencyKeys, checkLedgerIntegrity } =
  proxyActivities<ReturnType<typeof createActivities>>(ledgerActivity);

/** Run by a Temporal Schedule (src/temporal/schedules.ts): housekeeping and the books' check. */
export async function maintenanceWorkflow(input: {
  idempotencyKeyTtlMs: number;
}): Promise<{ purgedIdempotencyKeys: number; ledgerDiscrepancies: number }> {
  const purgedIdempotencyKeys = await purgeIdempotencyKeys({ olderThanMs: input.idempotencyKeyTtlMs });
  const ledgerDiscrepancies = await checkLedgerIntegrity();
  return { purgedIdempotencyKeys, ledgerDiscrepancies };
}
