import {
  ApplicationFailure,
  CancellationScope,
  log,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from './activity-types.ts';
import type { TransferInput, TransferView } from '../activities/transfers.ts';
import { assessTransfer, type TransferRiskLimits } from '../src/domain/risk.ts';
import type { TransferSettings } from '../src/domain/transfer-settings.ts';
import { businessFailure } from './failures.ts';
import { ledgerActivity, compensationActivity } from './activity-options.ts';
import { showTransferOpened, showTransferStatus } from './status-attributes.ts';

const { holdTransferFunds, failTransfer } =
  proxyActivities<Pick<Activities, 'holdTransferFunds' | 'failTransfer'>>(ledgerActivity);
const { releaseTransferFunds } = proxyActivities<Pick<Activities, 'releaseTransferFunds'>>(compensationActivity);

/**
 * Since this patch a failure that is not a business answer (an activity out of retries, an
 * unexpected error) also compensates and ends the transfer failed; before it, such a failure
 * failed the workflow and left the hold active.
 */
export const compensateEveryFailurePatch = 'transfer-compensates-every-failure';

/** What a transfer that failed for a reason of ours says; internal errors never reach a merchant. */
const unexpectedFailure = {
  type: 'service_unavailable',
  message: 'The transfer could not be completed; nothing was moved. Retry it with a new Idempotency-Key.',
} as const;

interface Compensation {
  step: string;
  run: () => Promise<void>;
}

/** The capture, retried for the transfer's captureTimeoutMs (inputs without settings: the ledger default). */
function captureActivities(settings: TransferSettings | undefined) {
  const options = settings ? { ...ledgerActivity, scheduleToCloseTimeout: settings.captureTimeoutMs } : ledgerActivity;
  return proxyActivities<Pick<Activities, 'completeTransfer'>>(options);
}

/**
 * A P2P transfer as a saga keyed by merchant + Idempotency-Key: hold the amount on the source
 * account → risk check → capture the hold into the destination (one ledger transaction).
 * Any failure after the hold releases it, in reverse order of the steps; the hold's expiry is
 * the backstop should that release never succeed. Failures end in a `failed` transfer, not a
 * failed workflow: the outcome is data the API returns.
 */
export async function transferWorkflow(
  input: TransferInput & { limits: TransferRiskLimits; settings?: TransferSettings },
): Promise<TransferView> {
  const { limits, settings, ...transfer } = input;
  const { completeTransfer } = captureActivities(settings);
  const compensations: Compensation[] = [];
  const release: Compensation = { step: 'release the hold', run: () => releaseTransferFunds(transfer.transferId) };
  showTransferOpened(transfer);
  try {
    try {
      await holdTransferFunds(settings ? { ...transfer, holdExpiryMs: settings.holdExpiryMs } : transfer);
    } catch (error) {
      // Out of retries without an answer: the hold may have committed with its answer lost.
      if (!businessFailure(error) && patched(compensateEveryFailurePatch)) compensations.unshift(release);
      throw error;
    }
    compensations.unshift(release);

    if (assessTransfer(transfer, limits) !== 'allow') {
      throw ApplicationFailure.nonRetryable('The transfer was blocked by risk rules.', 'transfer_blocked');
    }
    const completed = await completeTransfer({ ...transfer, ledgerKey: `${workflowInfo().workflowId}:capture` });
    showTransferStatus(completed.status);
    return completed;
  } catch (error) {
    const failure = businessFailure(error);
    if (!failure && !patched(compensateEveryFailurePatch)) throw error;
    // A cancelled workflow still gives the money back and says so.
    return CancellationScope.nonCancellable(async () => {
      const unfinished = await compensate(compensations, transfer.transferId);
      // Before the patch a failed compensation failed the workflow at once.
      if (unfinished && !patched(compensateEveryFailurePatch)) throw unfinished;
      const { type, message } = failure ?? unexpectedFailure;
      const failed = await failTransfer({ ...transfer, failureCode: type, failureMessage: message });
      showTransferStatus(failed.status);
      if (unfinished) throw unfinished;
      return failed;
    });
  }
}

/**
 * Runs the compensations in order (the newest step first). Each retries within its activity's
 * bound (compensationActivity); one still failing then is logged, the rest still run, and the
 * failure is returned so the workflow fails loudly once the transfer is recorded failed.
 */
async function compensate(compensations: Compensation[], transferId: string): Promise<ApplicationFailure | undefined> {
  let unfinished: ApplicationFailure | undefined;
  for (const compensation of compensations) {
    try {
      await compensation.run();
    } catch (error) {
      log.error('transfer compensation failed after its retries; the hold expiry will end it', {
        transferId,
        step: compensation.step,
        error: error instanceof Error ? error.message : String(error),
      });
      unfinished ??= ApplicationFailure.create({
        type: 'TransferCompensationFailed',
        message: `Could not ${compensation.step} of ${transferId}.`,
        nonRetryable: true,
        cause: error instanceof Error ? error : undefined,
      });
    }
  }
  return unfinished;
}
