// The import workflow's progress, answered by its `progress` query. Pure: shared with workflows.

export interface ImportProgress {
  runId: string;
  status: 'running' | 'succeeded' | 'failed';
  batches: number;
  rows: number;
  recorded: number;
  duplicates: number;
  invalid: number;
  /** The last staged row id processed; the next batch starts after it. */
  afterId: bigint;
}

export function startingProgress(runId: string): ImportProgress {
  return { runId, status: 'running', batches: 0, rows: 0, recorded: 0, duplicates: 0, invalid: 0, afterId: 0n };
}
