import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../config.ts';
import type { maintenanceWorkflow } from '../../workflows/maintenance.ts';

export const maintenanceScheduleId = 'maintenance';

/**
 * Creates a schedule, or brings an existing one to these settings: a restart with another
 * interval or new workflow arguments must reach the schedule Temporal already keeps. What an
 * operator set by hand on it (paused, a note) is kept.
 */
export async function ensureSchedule(temporal: Client, options: ScheduleOptions): Promise<void> {
  try {
    await temporal.schedule.create(options);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await temporal.schedule
      .getHandle(options.scheduleId)
      .update((previous) => ({ ...previous, spec: options.spec, action: options.action, policies: options.policies }));
  }
}

/** The hourly maintenance run: integrity check, idempotency-key purge, expired holds, record partitions. */
export async function ensureMaintenanceSchedule(temporal: Client, config: Config): Promise<void> {
  await ensureSchedule(temporal, {
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
}
