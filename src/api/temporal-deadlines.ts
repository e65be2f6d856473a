import { isGrpcServiceError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { PaymentsError } from '../domain/errors.ts';

// Temporal calls made while a request waits, each bound to the request's deadline (see
// answer-deadlines.ts), so that no request waits on Temporal past it and no call (a long poll
// above all) keeps running after the answer.

/**
 * A create whose update has not answered this long before its deadline makes sure its
 * workflow is started, so that under load that is known by the deadline, not asked after it
 * (it may take until startCheckGraceMs past the deadline).
 */
export const startCheckLeadMs = 2_000;

/**
 * How much earlier than our deadline the workflow's own wait (awaitStable's waitMs) ends,
 * so that its answer, a workflow task and a round trip later, still reaches us in time.
 */
export const workflowReplyLeadMs = 500;

/** How long a workflow may wait before answering, so that its answer arrives by `deadline`. */
export function workflowWaitMs(deadline: number): number {
  // At least 1 ms: a workflow timer needs a positive duration.
  return Math.max(1, deadline - Date.now() - workflowReplyLeadMs);
}

// gRPC status codes (stable across implementations) that say Temporal gave no answer:
// CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED (the server sheds load), UNAVAILABLE.
const noAnswerCodes = new Set([1, 4, 8, 14]);

// FAILED_PRECONDITION with this text: an update sent while the workflow's last task failed or
// timed out (its worker died) and is being retried; the same update is accepted once a worker
// completes that task, so it is no answer yet, not a refusal (found by npm run test:chaos).
const failedPrecondition = 9;
const taskInFailedState = /Workflow Task in failed state/;

/** The gRPC status inside a Temporal client error (the SDK wraps it in `cause`). */
function grpcStatus(error: unknown): { code: number; details: string } | undefined {
  let current = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (isGrpcServiceError(current)) return { code: current.code, details: `${current.details} ${current.message}` };
    current = current.cause;
  }
  return undefined;
}

/** Whether the error means Temporal did not answer (too slow, unreachable, or cut by our deadline). */
export function isNoAnswer(error: unknown): boolean {
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  const status = grpcStatus(error);
  if (!status) return false;
  return (
    noAnswerCodes.has(status.code) || (status.code === failedPrecondition && taskInFailedState.test(status.details))
  );
}

// FAILED_PRECONDITION (failedPrecondition, above) with the server's words for an update dropped
// with its workflow task.
const droppedWithTask = /unexpected workflow task failure/i;

/**
 * Whether the server dropped an update, unaccepted, with the workflow task that carried it (it
 * refused that task: a signal arrived while the task ended the run, say). Nothing of the update
 * is recorded, so the same update may be sent again.
 */
export function isDroppedUpdate(error: unknown): boolean {
  // The SDK's own message is generic; the server's words are in the gRPC error it wraps.
  const status = grpcStatus(error);
  return status?.code === failedPrecondition && droppedWithTask.test(status.details);
}

/**
 * Temporal answers a history long poll (what a workflow's result() waits on) empty about 1 s
 * before the call's gRPC deadline, and at once when less than that is left, so with the gRPC
 * deadline at ours the SDK's result() loop spins through hundreds of empty polls in its last
 * second. With the gRPC deadline this much later, the poll is still waiting at our deadline,
 * where our abort ends it.
 */
export const historyPollSlackMs = 2_000;

/**
 * Runs `call` with every Temporal request in it bound to `deadline`; its result, or undefined
 * when Temporal gave no answer by then. Other errors (a workflow's failure, a rejected update)
 * are thrown as they are.
 *
 * At the deadline the abort signal cancels the requests in flight, so the server stops waiting
 * on them, and the local timer ends our waiting whatever the SDK is still doing. `grpcDeadline`
 * is the server's own bound; it is later than ours only for history long polls.
 */
export async function callBefore<T>(
  temporal: Client,
  deadline: number,
  call: () => Promise<T>,
  grpcDeadline = deadline,
): Promise<T | undefined> {
  const abort = new AbortController();
  const running = temporal.withDeadline(grpcDeadline, () => temporal.withAbortSignal(abort.signal, call));
  // The losing side of the race below still settles; its rejection is expected and ignored.
  running.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve(undefined);
    }, deadline - Date.now());
  });
  try {
    return await Promise.race([running, cut]);
  } catch (error) {
    if (isNoAnswer(error)) return undefined;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** 503 service_unavailable (answered with Retry-After); retrying with the same key is safe. */
export function temporalUnavailable(message: string): PaymentsError {
  return new PaymentsError('service_unavailable', message);
}
