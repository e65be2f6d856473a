import { workflowInfo } from '@temporalio/workflow';

// Which workflow task records a payment transition. The payment's steps are local activities:
// a task lost after they acted (a killed worker, a task over its timeout) is replaced by one
// that runs them again and may take another path, recording other content at the same
// versions; the read model keeps the later task's (src/payments/transition-statement.ts).

/** History lengths stay far below this (Temporal ends a run at 51,200 events). */
const historyLengthSpan = 1_000_000n;

/**
 * Grows with every workflow task: a retried task starts further down the history, and a run
 * continued as new starts later than the one before (whose history lengths restart).
 * Deterministic: both come from the history.
 */
export function taskMark(): bigint {
  const info = workflowInfo();
  return BigInt(info.runStartTime.getTime()) * historyLengthSpan + BigInt(info.historyLength);
}
