import {
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type ConnectionOptions,
  type GrpcRetryOptions,
} from '@temporalio/client';

// The SDK retries transient gRPC failures (UNAVAILABLE, RESOURCE_EXHAUSTED, …) with backoff of
// up to 5 s, on a timer that knows nothing of the call's deadline: a call to an unreachable
// server keeps a retry pending long after its deadline, so its caller hears nothing until then,
// and a connection closed meanwhile makes that late retry throw out of a timer. These are the
// same retries, minus any that would start after the call's deadline; that one failure is
// delivered at once instead.

type GrpcInterceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/** The SDK's retry policy, minus the retries that would start at or after `endMs` (epoch ms). */
export function retriesUntil(endMs: number): GrpcRetryOptions {
  const sdk = defaultGrpcRetryOptions();
  let delayMs = 0;
  return {
    retryableDecider(attempt, status) {
      if (!sdk.retryableDecider(attempt, status)) return false;
      delayMs = sdk.delayFunction(attempt, status);
      return Date.now() + delayMs < endMs;
    },
    // The SDK asks for the delay right after the decider agreed to retry.
    delayFunction: () => delayMs,
  };
}

export const retryWithinDeadline: GrpcInterceptor = (options, nextCall) => {
  const { deadline } = options;
  const endMs = deadline === undefined ? Infinity : deadline instanceof Date ? deadline.getTime() : deadline;
  return makeGrpcRetryInterceptor(retriesUntil(endMs))(options, nextCall);
};
