import { ApplicationFailure } from '@temporalio/workflow';
import { isErrorCode, type ErrorCode } from '../src/domain/errors.ts';
import type { Check } from '../src/domain/payment-state.ts';

/** The typed business failure (decline, insufficient funds, provider down…) inside an error. */
export function businessFailure(error: unknown): { type: ErrorCode; message: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current instanceof ApplicationFailure && isErrorCode(current.type)) {
      return { type: current.type, message: current.message };
    }
    current = current.cause;
  }
  return undefined;
}

/** Unwraps a domain check, or refuses with a typed failure the API maps to HTTP. */
export function valueOf<T>(check: Check<T>): T {
  if (check.ok) return check.value;
  throw ApplicationFailure.create({
    type: check.code,
    message: check.message,
    nonRetryable: true,
    details: check.param === undefined ? [] : [{ param: check.param }],
  });
}
