import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from './activity-types.ts';
import { ledgerActivity } from './activity-options.ts';

const { purgeIdempotencyKeys, checkLedgerIntegrity } =
  proxyActivities<Pick<Activities, 'purgeIdempotencyKeys' | 'checkLedgerIntegrity'>>(ledgerActivity);

/** Run by a Temporal Schedule (src/temporal/schedules.ts): housekeeping and the books' check. */
export async function maintenanceWorkflow(input: {
  idempotencyKeyTtlMs: number;
}): Promise<{ purgedIdempotencyKeys: number; ledgerDiscrepancies: number }> {
  const purgedIdempotencyKeys = await purgeIdempotencyKeys({ olderThanMs: input.idempotencyKeyTtlMs });
  const ledgerDiscrepancies = await checkLedgerIntegrity();
  return { purgedIdempotencyKeys, ledgerDiscrepancies };
}
