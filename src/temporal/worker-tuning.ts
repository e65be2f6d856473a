// How much one worker process takes on at once. Payments stay open for months, so the sticky
// cache holds many open runs (a cached run needs no replay when its next update arrives); a
// payment's steps run inside its workflow task as local activities, so workflow-task slots
// bound the payments being worked on at one instant, and local-activity slots their steps.

export interface WorkerTuning {
  /** Open workflow runs kept in memory between their tasks (sticky cache). */
  maxCachedWorkflows: number;
  maxConcurrentWorkflowTasks: number;
  maxConcurrentLocalActivities: number;
  /** Remote activities (deliveries, deposits, transfers, the first payment version). */
  maxConcurrentActivities: number;
}

export const defaultWorkerTuning: WorkerTuning = {
  maxCachedWorkflows: 2_000,
  maxConcurrentWorkflowTasks: 100,
  maxConcurrentLocalActivities: 200,
  maxConcurrentActivities: 50,
};
