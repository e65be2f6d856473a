import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';

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
 */
export async function startOrFind<W extends Workflow>(
  temporal: Client,
  taskQueue: string,
  workflowType: string,
  workflowId: string,
  args: Parameters<W>,
): Promise<WorkflowHandle<W>> {
  try {
    return await temporal.workflow.start<W>(workflowType, {
      workflowId,
      taskQueue,
      args,
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    } as never);
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return temporal.workflow.getHandle<W>(workflowId);
    throw error;
  }
}

/** The workflow's result if it finishes within `waitMs`, else undefined (the API answers 202). */
export async function resultWithin<T>(promise: Promise<T>, waitMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), waitMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
