import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { ensureSchedule } from './schedules.ts';
import type { Config } from '../config.ts';
import type { ProviderName } from '../providers/provider.ts';
import type { reconciliationTriggerWorkflow } from '../../workflows/reconciliation.ts';

/** Every provider a payment can be routed to: each one's report is reconciled. */
export function reconciledProviders(config: Config): ProviderName[] {
  return [...new Set([...Object.values(config.providerRouting).flat(), ...config.providerDefaultRoute])].sort();
}

/**
 * The daily reconciliation (RECONCILIATION_CRON, UTC), created or brought to the current
 * settings. It starts reconciliationTriggerWorkflow, which reconciles the previous UTC day for
 * every provider and currency that moved on it. Pause, trigger and inspect it with
 * `temporal schedule` (README); run one day by hand with POST /v1/reconciliation/runs.
 */
export async function ensureReconciliationSchedule(temporal: Client, config: Config): Promise<void> {
  await ensureSchedule(temporal, {
    scheduleId: config.reconciliationScheduleId,
    spec: { cronExpressions: [config.reconciliationCron] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    action: {
      type: 'startWorkflow',
      workflowType: 'reconciliationTriggerWorkflow' as unknown as typeof reconciliationTriggerWorkflow,
      taskQueue: config.taskQueue,
      args: [{ providers: reconciledProviders(config) }],
    },
  });
}
