import { proxyLocalActivities } from '@temporalio/workflow';

// The payment benchmark's baseline (scripts/bench-payments.ts): the cheapest workflow that
// does one step, a single local activity, so its rate is what the Temporal server, the SDK and
// this machine allow before any payment logic. Bundled on its own by the bench, run by a worker
// inside the bench process on a task queue of its own.

export interface CeilingActivities {
  step(n: number): Promise<number>;
}

const { step } = proxyLocalActivities<CeilingActivities>({ startToCloseTimeout: '10 seconds' });

export async function ceilingWorkflow(n: number): Promise<number> {
  return step(n);
}
