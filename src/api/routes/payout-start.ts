import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import type { payoutWorkflow } from '../../../workflows/payout.ts';
import { payoutOpenedUpdate } from '../../../workflows/payout-messages.ts';
import type { PayoutInput, PayoutView } from '../../domain/payout-view.ts';
import { askAt } from '../workflow-runs.ts';
import { callBefore, startCheckLeadMs, temporalUnavailable, workflowWaitMs } from '../temporal-deadlines.ts';
import { startCheckGraceMs } from '../answer-deadlines.ts';

// Starting a payout's workflow for POST /v1/payouts by the request's deadline, as payments
// start theirs (payment-start.ts): one Update-With-Start that answers once the payout is held.

/** Its id is the payout id; a retry joins the running run and never reruns a closed one. */
function startOptions(input: PayoutInput, taskQueue: string) {
  return {
    workflowId: input.payoutId,
    taskQueue,
    args: [input] as [PayoutInput],
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    // A retry of the request learns from it the amount the first attempt fixed (see payoutStarted).
    memo: { amount: input.amount.toString() },
  };
}

async function ensureStarted(temporal: Client, input: PayoutInput, taskQueue: string, deadline: number) {
  try {
    const handle = await callBefore(temporal, deadline, () =>
      temporal.workflow.start<typeof payoutWorkflow>('payoutWorkflow', startOptions(input, taskQueue)),
    );
    return handle !== undefined;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return true;
    throw error;
  }
}

/** The workflow answered with the held (or refused) payout; or it runs without an answer yet; or it ended long ago. */
export type PayoutStart = { kind: 'answered'; view: PayoutView } | { kind: 'running' } | { kind: 'closed' };

/** Starts the payout's workflow with the update that waits for its hold; 503 when it is not known to exist by `deadline`. */
export async function startPayout(
  temporal: Client,
  taskQueue: string,
  input: PayoutInput,
  deadline: number,
): Promise<PayoutStart> {
  const started = askAt(deadline - startCheckLeadMs, () =>
    ensureStarted(temporal, input, taskQueue, deadline + startCheckGraceMs),
  );
  let view: PayoutView | null | undefined;
  try {
    view = await callBefore(temporal, deadline, () =>
      temporal.workflow.executeUpdateWithStart(payoutOpenedUpdate, {
        args: [{ waitMs: workflowWaitMs(deadline) }],
        startWorkflowOperation: new WithStartWorkflowOperation<typeof payoutWorkflow>(
          'payoutWorkflow',
          startOptions(input, taskQueue),
        ),
      }),
    );
  } catch (error) {
    started.cancel();
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { kind: 'closed' };
    throw error;
  }
  if (view) {
    started.cancel();
    return { kind: 'answered', view };
  }
  if (await started.ask()) return { kind: 'running' };
  throw temporalUnavailable('The payout could not be started in time; retry with the same Idempotency-Key.');
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
