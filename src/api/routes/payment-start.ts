import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { paymentWorkflowV2 } from '../../../workflows/payment.ts';
import type { PaymentInput, PaymentView } from '../../domain/payment-view.ts';
import { awaitStableUpdate } from '../../../workflows/messages.ts';
import { askAt } from '../workflow-runs.ts';
import { callBefore, startCheckLeadMs, temporalUnavailable, workflowWaitMs } from '../temporal-deadlines.ts';
import { startCheckGraceMs } from '../answer-deadlines.ts';

// Starting a payment's workflow for POST /v1/payments, by the request's deadline.

/** Its id is the payment id; a retry joins the running run and never reruns a closed one. */
function startOptions(input: PaymentInput, taskQueue: string) {
  return {
    workflowId: input.paymentId,
    taskQueue,
    args: [input] as [PaymentInput],
    workflowIdConflictPolicy: 'USE_EXISTING' as const,
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    // Search attributes are stored and shown unencrypted (no payload codec reads them): nothing
    // personal here, so no customer id (workflows/payment-status-attributes.ts).
    searchAttributes: {
      PaymentStatus: ['processing'],
      MerchantId: [input.merchantId],
      AmountMinor: [Number(input.amount)],
      Currency: [input.currency],
    },
  };
}

/**
 * Starts the workflow on its own, or finds it: true once it is known to exist. It needs no
 * worker, so it answers when the update sent with the start has not: whether that start was
 * recorded or not, the workflow exists afterwards.
 */
async function ensureStarted(temporal: Client, input: PaymentInput, taskQueue: string, deadline: number) {
  try {
    const handle = await callBefore(temporal, deadline, () =>
      temporal.workflow.start<typeof paymentWorkflowV2>('paymentWorkflowV2', startOptions(input, taskQueue)),
    );
    return handle !== undefined;
  } catch (error) {
    // Closed already: it exists.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return true;
    throw error;
  }
}

/**
 * What became of the start: the workflow answered with its view; or it runs but gave no view
 * in time (no worker took the update yet, or none is fast enough); or it ended long ago (an
 * earlier attempt of this request made it).
 */
export type PaymentStart = { kind: 'answered'; view: PaymentView } | { kind: 'running' } | { kind: 'closed' };

/**
 * Starts the payment's workflow with an update that waits for a stable status (one request,
 * the update handled in the workflow's first task), all by `deadline`; 503 when the workflow
 * is not known to exist by then.
 */
export async function startPayment(
  temporal: Client,
  taskQueue: string,
  input: PaymentInput,
  deadline: number,
): Promise<PaymentStart> {
  // The update's wait only begins once a worker takes it, so under load or with no worker it
  // is late; the start is made sure of shortly before the deadline, so that by the deadline
  // the answer is known rather than asked for only then.
  const started = askAt(deadline - startCheckLeadMs, () =>
    ensureStarted(temporal, input, taskQueue, deadline + startCheckGraceMs),
  );
  let view: PaymentView | undefined;
  try {
    view = await callBefore(temporal, deadline, () =>
      temporal.workflow.executeUpdateWithStart(awaitStableUpdate, {
        args: [{ waitMs: workflowWaitMs(deadline) }],
        startWorkflowOperation: new WithStartWorkflowOperation<typeof paymentWorkflowV2>(
          'paymentWorkflowV2',
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
  throw temporalUnavailable('The payment could not be started in time; retry with the same Idempotency-Key.');
}
