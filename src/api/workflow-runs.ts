import { createHash } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowHandle,
  type WorkflowUpdateHandle,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { callBefore, historyPollSlackMs, isDroppedUpdate, temporalUnavailable } from './temporal-deadlines.ts';

/**
 * A resource id derived from its workflow id, so every retry of one request names the same
 * resource even when the first attempt's answer was lost.
 */
export function resourceIdFor(prefix: 'dep' | 'tr' | 'pay' | 're', workflowId: string): string {
  return `${prefix}_${createHash('sha256').update(workflowId).digest('base64url').slice(0, 22)}`;
}

/**
 * Starts the workflow, or finds the run that an earlier attempt of the same request started:
 * a running one is joined (USE_EXISTING), a closed one is never run again (REJECT_DUPLICATE).
 * No answer from Temporal by `deadline` is a 503: the retry, with the same workflow id, is safe.
 */
export async function startOrFind<W extends Workflow>(
  temporal: Client,
  taskQueue: string,
  workflowType: string,
  workflowId: string,
  args: Parameters<W>,
  deadline: number,
): Promise<WorkflowHandle<W>> {
  let handle: WorkflowHandle<W> | undefined;
  try {
    handle = await callBefore(temporal, deadline, () =>
      temporal.workflow.start<W>(workflowType, {
        workflowId,
        taskQueue,
        args,
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      } as never),
    );
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return temporal.workflow.getHandle<W>(workflowId);
    throw error;
  }
  if (!handle)
    throw temporalUnavailable('The service is temporarily unavailable; retry with the same Idempotency-Key.');
  return handle;
}

/** The workflow's result if it finishes by `deadline`, else undefined (the API answers 202). */
export function resultBefore<T>(temporal: Client, deadline: number, handle: { result(): Promise<T> }) {
  return callBefore(temporal, deadline, () => handle.result(), deadline + historyPollSlackMs);
}

/**
 * Sends an update and waits for its result until `deadline`. An update that no worker accepted
 * by then is not durable (it may never run), so it is a 503 to retry, not a 202 that promises
 * it; an accepted one that has not finished is undefined (the API answers 202).
 */
export async function updateBefore<T>(
  temporal: Client,
  deadline: number,
  startAccepted: () => Promise<WorkflowUpdateHandle<T>>,
): Promise<T | undefined> {
  const accepted = await acceptedBefore(temporal, deadline, startAccepted);
  if (!accepted)
    throw temporalUnavailable('The change was not accepted in time; retry it with the same Idempotency-Key.');
  return callBefore(temporal, deadline, () => accepted.result());
}

/** Times an update dropped with its workflow task is sent again (a few: each drop is a rare race). */
const maxDroppedUpdateResends = 3;

/** The update accepted by `deadline`, sent again while the server drops it with its workflow task. */
async function acceptedBefore<T>(
  temporal: Client,
  deadline: number,
  startAccepted: () => Promise<WorkflowUpdateHandle<T>>,
): Promise<WorkflowUpdateHandle<T> | undefined> {
  for (let resend = 0; ; resend++) {
    try {
      return await callBefore(temporal, deadline, startAccepted);
    } catch (error) {
      if (resend >= maxDroppedUpdateResends || !isDroppedUpdate(error)) throw error;
    }
  }
}

/**
 * A question asked at `at` (epoch ms) unless cancelled first, or at once by ask(): while a
 * call still waits for its own answer, the question's answer gets ready alongside.
 */
export function askAt<T>(at: number, question: () => Promise<T>) {
  let asked: Promise<T> | undefined;
  const ask = () => (asked ??= question());
  const timer = setTimeout(() => ask().catch(() => undefined), at - Date.now());
  return {
    ask: () => {
      clearTimeout(timer);
      return ask();
    },
    cancel: () => clearTimeout(timer),
  };
}
