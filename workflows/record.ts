import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from './activity-types.ts';
import { ledgerActivity } from './activity-options.ts';

const { recordClaimedReference } = proxyActivities<Pick<Activities, 'recordClaimedReference'>>(ledgerActivity);

/**
 * One payment recorded by webhook, workflow id `record:<merchant>:<reference>`: the API has
 * claimed the reference (and answered); this writes the recorded payment, its ledger posting
 * and its event, once, however often it runs.
 */
export async function recordPaymentWorkflow(input: {
  merchantId: string;
  reference: string;
}): Promise<{ id: string; replayed: boolean }> {
  return recordClaimedReference(input);
}
