// The import workflow's progress, answered by its `progress` query. Pure: shared with workflows.

import type { StripeCursor } from './batch-stripes.ts';

export interface ImportProgress {
  runId: string;
  status: 'running' | 'succeeded' | 'failed';
  batches: number;
  rows: number;
  recorded: number;
  duplicates: number;
  invalid: number;
  /** No staged row the run could still take lies at or below this id (stripesDoneThrough). */
  afterId: bigint;
  /** Where each stripe stands; absent until the run's first striped batches (and in runs from before stripes). */
  stripes?: StripeCursor[] | undefined;
}

export function startingProgress(runId: string): ImportProgress {
  return { runId, status: 'running', batches: 0, rows: 0, recorded: 0, duplicates: 0, invalid: 0, afterId: 0n };
}
