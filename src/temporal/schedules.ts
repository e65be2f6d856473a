import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Config } from '../config.ts';
import type { maintenanceWorkflow } from '../../workflows/maintenance.ts';

export const maintenanceScheduleId = 'maintenance';

/** Creates the hourly maintenance schedule once; later starts find it and leave it alone. */
export async function ensureMaintenanceSchedule(temporal: Client, config: Config): Promise<void> {
  try {
    await temporal.schedule.create({
      scheduleId: maintenanceScheduleId,
      spec: { intervals: [{ every: `${config.maintenanceIntervalMs} milliseconds` }] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
      action: {
        type: 'startWorkflow',
        workflowType: 'maintenanceWorkflow' as unknown as typeof maintenanceWorkflow,
        taskQueue: config.taskQueue,
        args: [
          {
            idempotencyKeyTtlMs: config.idempotencyKeyTtlMs,
            maxHoldsExpiredPerRun: config.maxHoldsExpiredPerRun,
            recordPartitionsMonthsAhead: config.recordPartitionsMonthsAhead,
          },
        ],
      },
    });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
}
