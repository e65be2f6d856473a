import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from './activity-types.ts';
import type { DepositInput, DepositView } from '../activities/deposits.ts';
import { ledgerActivity } from './activity-options.ts';

const { recordDeposit } = proxyActivities<Pick<Activities, 'recordDeposit'>>(ledgerActivity);

/**
 * One deposit, keyed by merchant + Idempotency-Key: Temporal's exactly-once start by workflow
 * id makes a retried request find this run instead of crediting twice. The ledger step is
 * itself idempotent by workflow id, so an activity retry writes nothing new either.
 */
export async function depositWorkflow(input: DepositInput): Promise<DepositView> {
  return recordDeposit({ ...input, ledgerKey: `${workflowInfo().workflowId}:credit` });
}
