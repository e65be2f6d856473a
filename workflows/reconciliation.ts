import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from './activity-types.ts';
import { ledgerActivity } from './activity-options.ts';
import { reconciliationWorkflowId, utcDayBefore, type ReconciliationTarget } from '../src/domain/reconciliation.ts';
import type { ProviderName } from '../src/providers/provider.ts';
import type { MatchResult } from '../src/reconciliation/matching.ts';
import type { ReconciliationRun } from '../src/reconciliation/public-run.ts';

const { openReconciliationRun, failReconciliationRun, reconciliationTargets } = proxyActivities<
  Pick<Activities, 'openReconciliationRun' | 'failReconciliationRun' | 'reconciliationTargets'>
>({ ...ledgerActivity, startToCloseTimeout: '1 minute' });

// The report comes page by page; the activity heartbeats its cursor after each page, so a dead
// worker is noticed within the heartbeat timeout and the retry resumes at the next page. A
// provider that stays down fails the run after the schedule-to-close timeout, not never.
const { fetchSettlementReport } = proxyActivities<Pick<Activities, 'fetchSettlementReport'>>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  scheduleToCloseTimeout: '2 hours',
  retry: { ...ledgerActivity.retry, maximumInterval: '1 minute', maximumAttempts: 30 },
});

// One set-based statement over the day (and the ledger integrity check, a scan of the ledger):
// minutes on a large day, heartbeating meanwhile.
const { matchSettlementReport, completeReconciliationRun } = proxyActivities<
  Pick<Activities, 'matchSettlementReport' | 'completeReconciliationRun'>
>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: ledgerActivity.retry,
});

export interface ReconciliationOutcome {
  run: ReconciliationRun | undefined;
  match: MatchResult;
}

/** The code of what stopped a run: the typed failure of the activity that gave up, else a generic one. */
function failureCode(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && cause.type ? cause.type : 'internal_error';
}

/**
 * One provider's settlement report for one currency and UTC day, matched with our ledger,
 * workflow id `reconciliation:<provider>:<currency>:<date>`: open the day's run (one per
 * provider, currency and day), fetch the report into it, match it line by line in one
 * set-based step, then run the ledger integrity check and record both. Running a day again
 * adds what is new and replaces nothing.
 */
export async function reconciliationWorkflow(target: ReconciliationTarget): Promise<ReconciliationOutcome> {
  const executionId = workflowInfo().runId;
  const { runId } = await openReconciliationRun({ ...target, executionId });
  try {
    await fetchSettlementReport({ ...target, runId });
    const match = await matchSettlementReport({ ...target, runId });
    const run = await completeReconciliationRun({ runId, executionId });
    return { run, match };
  } catch (error) {
    const code = failureCode(error);
    await failReconciliationRun({ runId, executionId, failureCode: code });
    throw ApplicationFailure.nonRetryable(`reconciliation ${runId} failed: ${code}`, 'reconciliation_failed');
  }
}

export interface ReconciliationTriggerInput {
  providers: ProviderName[];
  /** The day to reconcile; by default the UTC day before the one the schedule fired in. */
  date?: string | undefined;
}

/** When the schedule meant this run to start (a late or caught-up run still covers its own day). */
function scheduledAtMs(): number {
  const scheduled = workflowInfo().typedSearchAttributes.get({ name: 'TemporalScheduledStartTime', type: 'DATETIME' });
  return (scheduled ?? workflowInfo().startTime).getTime();
}

/**
 * What the reconciliation schedule starts: one reconciliation per provider and currency that
 * moved on the day, under their own ids (a day already running is left to finish).
 */
export async function reconciliationTriggerWorkflow(
  input: ReconciliationTriggerInput,
): Promise<{ date: string; started: ReconciliationTarget[] }> {
  const date = input.date ?? utcDayBefore(scheduledAtMs());
  const targets = await reconciliationTargets({ date, providers: input.providers });
  const started: ReconciliationTarget[] = [];
  for (const target of targets) {
    try {
      await startChild(reconciliationWorkflow, {
        workflowId: reconciliationWorkflowId(target),
        args: [target],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      started.push(target);
    } catch (error) {
      // @temporalio/common's WorkflowExecutionAlreadyStartedError, which the workflow package does not re-export.
      if (error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError') continue;
      throw error;
    }
  }
  return { date, started };
}
