import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { payoutWorkflow } from '../../../workflows/payout.ts';
import { payoutOpenedUpdate } from '../../../workflows/payout-messages.ts';
import type { PayoutInput, PayoutView } from '../../domain/payout-view.ts';
import { callBefore } from '../temporal-deadlines.ts';
import { startWithUpdate, type WorkflowStart } from '../start-with-update.ts';

// Starting a payout's workflow for POST /v1/payouts by the request's deadline, as payments
// start theirs (../start-with-update.ts): one Update-With-Start that answers once the payout is held.

export type PayoutStart = WorkflowStart<PayoutView>;

/** Starts the payout's workflow with the update that waits for its hold; 503 when it is not known to exist by `deadline`. */
export function startPayout(
  temporal: Client,
  taskQueue: string,
  input: PayoutInput,
  deadline: number,
): Promise<PayoutStart> {
  return startWithUpdate<typeof payoutWorkflow, PayoutView>(
    temporal,
    {
      workflowType: 'payoutWorkflow',
      options: {
        workflowId: input.payoutId,
        taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // A retry of the request learns from it the amount the first attempt fixed (see startedPayoutAmount).
        memo: { amount: input.amount.toString() },
      },
      update: payoutOpenedUpdate,
      unavailableMessage: 'The payout could not be started in time; retry with the same Idempotency-Key.',
    },
    deadline,
  );
}

/**
 * The amount of the payout's workflow when an earlier attempt of this request started it, null
 * when none did, undefined when Temporal did not say by `deadline`. Such a payout is joined,
 * never checked against the balance again: its own hold is the check that counts.
 */
export async function startedPayoutAmount(
  temporal: Client,
  payoutId: string,
  deadline: number,
): Promise<bigint | null | undefined> {
  try {
    const described = await callBefore(temporal, deadline, () => temporal.workflow.getHandle(payoutId).describe());
    const amount = described?.memo?.amount;
    return typeof amount === 'string' && /^\d+$/.test(amount) ? BigInt(amount) : undefined;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}
