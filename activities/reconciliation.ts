import { Context } from '@temporalio/activity';
import type { PrismaClient } from '../src/db/prisma.ts';
import type { ColumnCipher } from '../src/crypto/column-cipher.ts';
import type { ReconciliationTarget } from '../src/domain/reconciliation.ts';
import type { ProviderGateway, ProviderName } from '../src/providers/provider.ts';
import { matchReport, type MatchResult } from '../src/reconciliation/matching.ts';
import type { ReconciliationRun } from '../src/reconciliation/public-run.ts';
import { storeReportPage } from '../src/reconciliation/report-lines.ts';
import { completeRun, failRun, openRun } from '../src/reconciliation/runs.ts';
import { reconciliationTargets } from '../src/reconciliation/targets.ts';

// Activities of the reconciliation workflow. Each is keyed: the run by provider, currency and
// day, an execution's steps by its Temporal run id, lines by their provider id, items by run,
// kind and key; so a retried step or a re-run of the day writes nothing twice.

type RunStep = ReconciliationTarget & { runId: string };

interface FetchProgress {
  /** The next page to fetch; null before the first. */
  cursor: string | null;
  storedLines: number;
}

const heartbeatEveryMs = 1_000;

export function createReconciliationActivities(prisma: PrismaClient, providers: ProviderGateway, cipher: ColumnCipher) {
  return {
    async openReconciliationRun(input: ReconciliationTarget & { executionId: string }): Promise<{ runId: string }> {
      return { runId: await openRun(prisma, input) };
    },

    /**
     * Fetches the day's report page by page into the run's lines (how many were new, returned).
     * It heartbeats where it stands (the next page's cursor once a page is stored), so a retry
     * after a dead worker or a provider outage resumes there; a page stored twice stores nothing
     * the second time.
     */
    async fetchSettlementReport(input: RunStep): Promise<{ storedLines: number }> {
      const reports = providers.settlementReports(input.provider);
      const resumed = Context.current().info.heartbeatDetails as FetchProgress | undefined;
      const progress: FetchProgress = { cursor: resumed?.cursor ?? null, storedLines: resumed?.storedLines ?? 0 };
      const beat = setInterval(() => Context.current().heartbeat(progress), heartbeatEveryMs);
      try {
        do {
          const page = await reports.page({ date: input.date, currency: input.currency, cursor: progress.cursor });
          progress.storedLines += await storeReportPage(prisma, input, page);
          progress.cursor = page.next;
          Context.current().heartbeat(progress);
        } while (progress.cursor !== null);
        return { storedLines: progress.storedLines };
      } finally {
        clearInterval(beat);
      }
    },

    async matchSettlementReport(input: RunStep): Promise<MatchResult> {
      const beat = setInterval(() => Context.current().heartbeat(), heartbeatEveryMs);
      try {
        return await matchReport(prisma, cipher, input);
      } finally {
        clearInterval(beat);
      }
    },

    /** The ledger integrity check and the run's completion, announced once per execution. */
    async completeReconciliationRun(input: {
      runId: string;
      executionId: string;
    }): Promise<ReconciliationRun | undefined> {
      const beat = setInterval(() => Context.current().heartbeat(), heartbeatEveryMs);
      try {
        return await completeRun(prisma, cipher, input);
      } finally {
        clearInterval(beat);
      }
    },

    async failReconciliationRun(input: { runId: string; executionId: string; failureCode: string }): Promise<void> {
      await failRun(prisma, input);
    },

    async reconciliationTargets(input: { date: string; providers: ProviderName[] }): Promise<ReconciliationTarget[]> {
      return reconciliationTargets(prisma, providers, input);
    },
  };
}
