import { describe, expect, it } from 'vitest';
import { ServiceError, WorkflowNotFoundError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { isDroppedUpdate, isNoAnswer, workflowReplyLeadMs, workflowWaitMs } from '../../src/api/temporal-deadlines.ts';
import { retriesUntil } from '../../src/temporal/deadline-retry.ts';

/** A gRPC failure as @grpc/grpc-js reports it, wrapped the way the Temporal client wraps it. */
// The server's words are both the error's message and its details, as grpc-js gives them.
const grpcFailure = (code: number, words = 'x') =>
  new ServiceError('call failed', { cause: Object.assign(new Error(words), { code, details: words, metadata: {} }) });
const status = (code: number) => ({ code, details: 'x', metadata: {} }) as never;

describe('isNoAnswer', () => {
  it('counts deadlines, cancellations, overload and unreachable servers as no answer', () => {
    for (const code of [1, 4, 8, 14]) expect(isNoAnswer(grpcFailure(code))).toBe(true);
    expect(isNoAnswer(new WorkflowUpdateRPCTimeoutOrCancelledError('timed out'))).toBe(true);
  });

  it('counts an update refused while the workflow task is retried (its worker died) as no answer', () => {
    const refused = 'Unable to perform workflow execution update due to Workflow Task in failed state.';
    expect(isNoAnswer(grpcFailure(9, refused))).toBe(true);
    // Any other failed precondition is an answer.
    expect(isNoAnswer(grpcFailure(9, 'Workflow execution already completed.'))).toBe(false);
  });

  it('leaves answers that say something to their callers', () => {
    // NOT_FOUND, INVALID_ARGUMENT, ALREADY_EXISTS, PERMISSION_DENIED
    for (const code of [5, 3, 6, 7]) expect(isNoAnswer(grpcFailure(code))).toBe(false);
    expect(isNoAnswer(new WorkflowNotFoundError('gone', 'pay_1', undefined))).toBe(false);
    expect(isNoAnswer(new Error('anything else'))).toBe(false);
  });
});

describe('isDroppedUpdate', () => {
  // The server's words, in the gRPC error under the SDK's generic "Workflow Update failed".
  const dropped =
    '9 FAILED_PRECONDITION: Unable to perform workflow execution update due to unexpected workflow task failure.';

  it('recognizes an update the server dropped with its workflow task', () => {
    expect(isDroppedUpdate(grpcFailure(9, dropped))).toBe(true);
  });

  it('leaves other refusals, and other failed preconditions, to their callers', () => {
    expect(isDroppedUpdate(grpcFailure(9, 'Workflow Update failed: 9 FAILED_PRECONDITION: something else'))).toBe(
      false,
    );
    for (const code of [5, 14]) expect(isDroppedUpdate(grpcFailure(code, dropped))).toBe(false);
    expect(isDroppedUpdate(new Error(dropped))).toBe(false);
  });
});

describe('workflowWaitMs', () => {
  it('ends the workflow wait early enough for its answer to arrive by the deadline', () => {
    const waitMs = workflowWaitMs(Date.now() + 10_000);
    expect(waitMs).toBeLessThanOrEqual(10_000 - workflowReplyLeadMs);
    expect(waitMs).toBeGreaterThan(10_000 - workflowReplyLeadMs - 100);
    expect(workflowWaitMs(Date.now() - 1_000)).toBe(1);
  });
});

describe('retriesUntil', () => {
  it('retries a transient failure only while the retry would start before the deadline', () => {
    const policy = retriesUntil(Date.now() + 300);
    // The SDK's first backoff is 170 ms ± 20 %, its fourth 835 ms ± 20 %.
    expect(policy.retryableDecider(1, status(14))).toBe(true);
    expect(policy.delayFunction(1, status(14))).toBeLessThan(300);
    expect(policy.retryableDecider(4, status(14))).toBe(false);
  });

  it('keeps the SDK policy without a deadline and never retries a definite answer', () => {
    const policy = retriesUntil(Infinity);
    expect(policy.retryableDecider(4, status(14))).toBe(true);
    expect(policy.retryableDecider(1, status(5))).toBe(false);
    expect(policy.retryableDecider(10, status(14))).toBe(false);
  });
});
