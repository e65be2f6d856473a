import {
  ApplicationFailure,
  ParentClosePolicy,
  continueAsNew,
  defineQuery,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from './activity-types.ts';
import { ledgerActivity } from './activity-options.ts';
import { startingProgress, type ImportProgress } from '../src/domain/import-progress.ts';
import { runBatchWindow } from '../src/domain/batch-window.ts';
import { runStripes, startingStripes, stripesDoneThrough } from '../src/domain/batch-stripes.ts';
import type { RecordLimits } from '../src/domain/record-limits.ts';

const { openImportRun, closeImportRun, hasStagedBacklog } =
  proxyActivities<Pick<Activities, 'openImportRun' | 'closeImportRun' | 'hasStagedBacklog'>>(ledgerActivity);
// A batch is one database transaction over up to batchSize rows: seconds, not milliseconds.
const { recordImportBatch, planImportBatches } = proxyActivities<
  Pick<Activities, 'recordImportBatch' | 'planImportBatches'>
>({
  ...ledgerActivity,
  startToCloseTimeout: '3 minutes',
  // It heartbeats every second: a dead worker's batch is retried after this, not 3 minutes.
  heartbeatTimeout: '5 seconds',
  scheduleToCloseTimeout: '1 hour',
});

export const importProgressQuery = defineQuery<ImportProgress>('progress');

export interface ImportInput {
  batchSize: number;
  /** Continue as new after this many batches, so the history stays small. */
  batchesPerRun: number;
  /**
   * Batches at once, one per stripe of the staged rows (src/domain/batch-stripes.ts); 1 when
   * absent (inputs from before it existed).
   */
  parallelBatches?: number | undefined;
  limits: RecordLimits;
  /** Only these merchants' staged rows; all when absent. */
  merchantIds?: string[] | undefined;
  /** Set when a run continues as new: where it stands. */
  progress?: ImportProgress | undefined;
}

/**
 * Imports staged payments, batch after batch, by keyset over unprocessed rows in id order. The
 * batch is the unit of atomicity and its activity is keyed by run and start id, so a worker
 * killed at any point resumes exactly where the last committed batch ended. A row staged with
 * a smaller id after the run passed it (commit order) is left for the next run.
 */
export async function importWorkflow(input: ImportInput): Promise<ImportProgress> {
  const progress = input.progress ?? startingProgress(`imp_${workflowInfo().runId.replaceAll('-', '')}`);
  setHandler(importProgressQuery, () => progress);
  if (!input.progress) await openImportRun({ runId: progress.runId });
  // Since stripes: one batch at a time per stripe, the stripes at once. Histories from before
  // replay what they ran: planned ranges several at once, or before that one batch after another.
  const exhausted = patched('import-stripes')
    ? await importInStripes(input, progress)
    : patched('import-parallel-batches')
      ? await importInRanges(input, progress)
      : await importOneByOne(input, progress);
  if (exhausted) {
    await closeImportRun({ runId: progress.runId });
    progress.status = 'succeeded';
    return progress;
  }
  return continueAsNew<typeof importWorkflow>({ ...input, progress });
}

/** Runs up to batchesPerRun batches, stripes at once; true when every stripe ran out. */
async function importInStripes(input: ImportInput, progress: ImportProgress): Promise<boolean> {
  const stripes = input.parallelBatches ?? 1;
  if (progress.stripes?.length !== stripes) progress.stripes = startingStripes(stripes, progress.afterId);
  const start = progress.stripes;
  const end = await failRunOnError(progress, () =>
    runStripes({
      stripes: start,
      batchSize: input.batchSize,
      maxBatches: input.batchesPerRun,
      run: (batch) =>
        recordImportBatch({
          runId: progress.runId,
          afterId: batch.afterId,
          stripe: batch.stripe,
          stripes: batch.stripes,
          batchSize: input.batchSize,
          limits: input.limits,
          merchantIds: input.merchantIds,
        }),
      finished: (_batch, result, cursors) => {
        countBatch(progress, result);
        progress.stripes = cursors;
        progress.afterId = stripesDoneThrough(cursors);
      },
    }),
  );
  progress.stripes = end.stripes;
  progress.afterId = stripesDoneThrough(end.stripes);
  return end.exhausted;
}

/** Runs up to batchesPerRun batches; true when the staged rows ran out. */
async function importInRanges(input: ImportInput, progress: ImportProgress): Promise<boolean> {
  const end = await failRunOnError(progress, () =>
    runBatchWindow({
      startAfterId: progress.afterId,
      parallelBatches: input.parallelBatches ?? 1,
      maxBatches: input.batchesPerRun,
      plan: (afterId, count) =>
        planImportBatches({ afterId, batchSize: input.batchSize, count, merchantIds: input.merchantIds }),
      run: (range) =>
        recordImportBatch({
          runId: progress.runId,
          afterId: range.afterId,
          untilId: range.untilId,
          batchSize: input.batchSize,
          limits: input.limits,
          merchantIds: input.merchantIds,
        }),
      finished: (_range, result) => countBatch(progress, result),
    }),
  );
  progress.afterId = end.afterId;
  return end.exhausted;
}

async function importOneByOne(input: ImportInput, progress: ImportProgress): Promise<boolean> {
  for (let batch = 0; batch < input.batchesPerRun; batch++) {
    const result = await failRunOnError(progress, () =>
      recordImportBatch({
        runId: progress.runId,
        afterId: progress.afterId,
        batchSize: input.batchSize,
        limits: input.limits,
        merchantIds: input.merchantIds,
      }),
    );
    countBatch(progress, result);
    if (result.rows > 0 && result.batchEndId !== null) progress.afterId = result.batchEndId;
    if (result.rows < input.batchSize) return true;
  }
  return false;
}

function countBatch(
  progress: ImportProgress,
  result: { rows: number; recorded: number; duplicates: number; invalid: number },
): void {
  if (result.rows === 0) return;
  progress.batches += 1;
  progress.rows += result.rows;
  progress.recorded += result.recorded;
  progress.duplicates += result.duplicates;
  progress.invalid += result.invalid;
}

/** A batch out of retries fails the run: recorded as failed, and the workflow with it. */
async function failRunOnError<T>(progress: ImportProgress, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    progress.status = 'failed';
    await closeImportRun({ runId: progress.runId, error: error instanceof Error ? error.message : String(error) });
    throw ApplicationFailure.nonRetryable(`import ${progress.runId} failed`, 'import_failed', progress);
  }
}

/**
 * What the import schedule starts: the import under its fixed workflow id, so there is one at
 * a time. A schedule suffixes its workflows' ids with the time, so it cannot start the import
 * itself under a fixed id. When an import is running already, this one joins it (does nothing).
 * Since `import-trigger-needs-backlog`, a tick with nothing staged starts nothing: no import,
 * no run row (the schedule ticks every 30 s; empty runs crowded GET /v1/imports).
 */
export async function importTriggerWorkflow(
  input: ImportInput & { importWorkflowId: string },
): Promise<{ started: boolean; nothingStaged?: true }> {
  const { importWorkflowId, ...importInput } = input;
  if (patched('import-trigger-needs-backlog') && !(await hasStagedBacklog({ merchantIds: input.merchantIds }))) {
    return { started: false, nothingStaged: true };
  }
  try {
    await startChild(importWorkflow, {
      workflowId: importWorkflowId,
      args: [importInput],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return { started: true };
  } catch (error) {
    // @temporalio/common's WorkflowExecutionAlreadyStartedError, which the workflow package does not re-export.
    if (error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError') return { started: false };
    throw error;
  }
}
