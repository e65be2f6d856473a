import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from './activity-types.ts';
import type { TransferInput, TransferView } from '../activities/transfers.ts';
import { assessTransfer, type TransferRiskLimits } from '../src/domain/risk.ts';
import { businessFailure } from './failures.ts';
import { ledgerActivity, compensationActivity } from './activity-options.ts';

const { holdTransferFunds, completeTransfer, failTransfer } =
  proxyActivities<Pick<Activities, 'holdTransferFunds' | 'completeTransfer' | 'failTransfer'>>(ledgerActivity);
const { releaseTransferFunds } = proxyActivities<Pick<Activities, 'releaseTransferFunds'>>(compensationActivity);

/**
 * A P2P transfer as a saga keyed by merchant + Idempotency-Key: hold the amount on the source
 * account → risk check → capture the hold into the destination (one ledger transaction).
 * Any failure after the hold releases it. Business failures end in a `failed` transfer, not a
 * failed workflow: the outcome is data the API returns.
 */
export async function transferWorkflow(input: TransferInput & { limits: TransferRiskLimits }): Promise<TransferView> {
  const { limits, ...transfer } = input;
  const compensations: (() => Promise<void>)[] = [];
  try {
    await holdTransferFunds(transfer);
    compensations.unshift(() => releaseTransferFunds(transfer.transferId));

    if (assessTransfer(transfer, limits) !== 'allow') {
      throw ApplicationFailure.nonRetryable('The transfer was blocked by risk rules.', 'transfer_blocked');
    }
    return await completeTransfer({ ...transfer, ledgerKey: `${workflowInfo().workflowId}:capture` });
  } catch (error) {
    const failure = businessFailure(error);
    if (!failure) throw error;
    for (const compensate of compensations) await compensate();
    return failTransfer({ ...transfer, failureCode: failure.type, failureMessage: failure.message });
  }
}
