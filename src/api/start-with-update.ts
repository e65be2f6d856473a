import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type Workflow,
  type UpdateDefinition,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { askAt } from './workflow-runs.ts';
import { callBefore, startCheckLeadMs, temporalUnavailable, workflowWaitMs } from './temporal-deadlines.ts';
import { startCheckGraceMs } from './answer-deadlines.ts';

// Starting a resource's workflow (a payment, a payout) for its POST by the request's deadline:
// one Update-With-Start whose update waits in the workflow for a stable answer.

/**
 * What became of the start: the workflow answered with its view; or it runs but gave no view
 * in time (no worker took the update yet, or none is fast enough); or it ended long ago (an
 * earlier attempt of this request made it).
 */
export type WorkflowStart<View> = { kind: 'answered'; view: View } | { kind: 'running' } | { kind: 'closed' };

export interface StartWithUpdate<W extends Workflow, View> {
  workflowType: string;
  /** Its id is the resource's id; a retry joins the running run and never reruns a closed one. */
  options: WorkflowStartOptions<W> & { workflowIdConflictPolicy: 'USE_EXISTING' };
  /** Waits in the workflow up to `waitMs`; null or undefined: no stable answer yet. */
  update: UpdateDefinition<View | null | undefined, [{ waitMs: number }]>;
  /** The 503's message when the workflow is not known to exist by the deadline. */
  unavailableMessage: string;
}

/**
 * Starts the workflow on its own, or finds it: true once it is known to exist. It needs no
 * worker, so it answers when the update sent with the start has not: whether that start was
 * recorded or not, the workflow exists afterwards.
 */
async function ensureStarted<W extends Workflow>(
  temporal: Client,
  workflowType: string,
  options: WorkflowStartOptions<W>,
  deadline: number,
): Promise<boolean> {
  try {
    const handle = await callBefore(temporal, deadline, () => temporal.workflow.start<W>(workflowType, options));
    return handle !== undefined;
  } catch (error) {
    // Closed already: it exists.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return true;
    throw error;
  }
}

/** Starts with the update, all by `deadline`; 503 when the workflow is not known to exist by then. */
export async function startWithUpdate<W extends Workflow, View>(
  temporal: Client,
  start: StartWithUpdate<W, View>,
  deadline: number,
): Promise<WorkflowStart<View>> {
  // The update's wait only begins once a worker takes it, so under load or with no worker it
  // is late; the start is made sure of shortly before the deadline, so that by the deadline
  // the answer is known rather than asked for only then.
  const started = askAt(deadline - startCheckLeadMs, () =>
    ensureStarted(temporal, start.workflowType, start.options, deadline + startCheckGraceMs),
  );
  let view: View | null | undefined;
  try {
    view = await callBefore(temporal, deadline, () =>
      temporal.workflow.executeUpdateWithStart(start.update, {
        args: [{ waitMs: workflowWaitMs(deadline) }],
        startWorkflowOperation: new WithStartWorkflowOperation<W>(start.workflowType, start.options),
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
  throw temporalUnavailable(start.unavailableMessage);
}
