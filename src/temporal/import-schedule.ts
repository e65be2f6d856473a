import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { ensureSchedule } from './schedules.ts';
import type { Config } from '../config.ts';
import type { ImportInput, importTriggerWorkflow } from '../../workflows/import.ts';

/** The import's input from the settings. */
export function importInput(config: Config): ImportInput {
  return {
    batchSize: config.importBatchSize,
    batchesPerRun: config.importBatchesPerRun,
    parallelBatches: config.importParallelBatches,
    limits: config.recordLimits,
    merchantIds: config.importMerchantIds.length > 0 ? config.importMerchantIds : undefined,
  };
}

/**
 * The import schedule (every IMPORT_INTERVAL_MS), created or brought to the current settings.
 * It starts importTriggerWorkflow, which starts the import under its fixed id or joins the
 * running one. Pause, trigger and inspect it with `temporal schedule` (README).
 */
export async function ensureImportSchedule(temporal: Client, config: Config): Promise<void> {
  await ensureSchedule(temporal, {
    scheduleId: config.importScheduleId,
    spec: { intervals: [{ every: `${config.importIntervalMs} milliseconds` }] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    action: {
      type: 'startWorkflow',
      workflowType: 'importTriggerWorkflow' as unknown as typeof importTriggerWorkflow,
      taskQueue: config.taskQueue,
      args: [{ ...importInput(config), importWorkflowId: config.importWorkflowId }],
    },
  });
}
