import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { ensureSchedule } from './schedules.ts';
import type { Config } from '../config.ts';
import type { PayoutTriggerInput, payoutTriggerWorkflow } from '../../workflows/payout.ts';

/** The trigger's input from the settings (the schedule's arguments). */
export function payoutTriggerInput(config: Config): PayoutTriggerInput {
  return {
    merchantIds: config.payoutMerchantIds,
    defaults: { schedule: config.payoutDefaultSchedule, minimumMinor: config.payoutMinimumAmountMinor },
    provider: config.payoutProvider,
    timing: config.payoutTiming,
  };
}

/**
 * The payout schedule (PAYOUT_CRON, UTC; daily by default), created or brought to the current
 * settings. It starts payoutTriggerWorkflow, which starts one payout per merchant and currency
 * due that day. Pause, trigger and inspect it with `temporal schedule` (README).
 */
export async function ensurePayoutSchedule(temporal: Client, config: Config): Promise<void> {
  await ensureSchedule(temporal, {
    scheduleId: config.payoutScheduleId,
    spec: { cronExpressions: [config.payoutCron] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    action: {
      type: 'startWorkflow',
      workflowType: 'payoutTriggerWorkflow' as unknown as typeof payoutTriggerWorkflow,
      taskQueue: config.taskQueue,
      args: [payoutTriggerInput(config)],
    },
  });
}
