import { createHash } from 'node:crypto';
import type { Db, Prisma, PrismaClient } from '../db/prisma.ts';
import type { ReconciliationTarget } from '../domain/reconciliation.ts';
import { appendPlatformEvents } from '../events/outbox.ts';
import type { ColumnCipher } from '../crypto/column-cipher.ts';
import { reconcile } from '../ledger/reconcile.ts';
import { isMismatchKind } from './public-item.ts';
import {
  noItems,
  presentRun,
  type ItemCounts,
  type ReconciliationRun,
  type ReconciliationRunFacts,
} from './public-run.ts';

// A run's lifecycle: one row per provider, currency and day (its id derived from them), opened
// by each execution (keyed by the execution's Temporal run id, so a retried step counts once),
// completed with the ledger integrity check, or failed with the code of what stopped it.

/** The run's id: the same for every execution of the day, so the API knows it before any runs. */
export function reconciliationRunId(target: ReconciliationTarget): string {
  const digest = createHash('sha256')
    .update(`${target.provider}:${target.currency}:${target.date}`)
    .digest('base64url');
  return `rcn_${digest.slice(0, 22)}`;
}

const dateOf = (date: string) => new Date(`${date}T00:00:00.000Z`);

/** Starts an execution of the day's run (the first one creates the run); its items are kept. */
export async function openRun(db: Db, target: ReconciliationTarget & { executionId: string }): Promise<string> {
  const id = reconciliationRunId(target);
  await db.$executeRaw`
    INSERT INTO reconciliation_runs (id, provider, currency, date, status, executions, execution_id, started_at)
    VALUES (${id}, ${target.provider}, ${target.currency}, ${dateOf(target.date)}::date, 'running', 1,
            ${target.executionId}, now())
    ON CONFLICT (id) DO UPDATE
      SET status = 'running', executions = reconciliation_runs.executions + 1, execution_id = EXCLUDED.execution_id,
          started_at = now(), completed_at = NULL, error = NULL
      WHERE reconciliation_runs.execution_id IS DISTINCT FROM EXCLUDED.execution_id`;
  return id;
}

/**
 * Ends the execution: runs the ledger integrity check, records both results and announces the
 * run (once per execution). A step of an execution that was superseded changes nothing.
 */
export async function completeRun(
  prisma: PrismaClient,
  cipher: ColumnCipher,
  input: { runId: string; executionId: string },
): Promise<ReconciliationRun | undefined> {
  const discrepancies = await reconcile(prisma);
  return prisma.$transaction(async (tx) => {
    const { count } = await tx.reconciliationRun.updateMany({
      where: { id: input.runId, executionId: input.executionId, status: { in: ['running', 'completed'] } },
      data: {
        status: 'completed',
        completedAt: new Date(),
        integrityHealthy: discrepancies.length === 0,
        integrityDiscrepancies: discrepancies.length,
      },
    });
    if (count === 0) return undefined;
    const run = await findRun(tx, input.runId);
    if (!run) throw new Error(`reconciliation run ${input.runId} vanished`);
    await appendPlatformEvents(tx, cipher, [
      {
        type: 'reconciliation.run_completed',
        resourceId: run.id,
        data: run,
        sourceKey: `reconciliation_run:${run.id}:${input.executionId}`,
      },
    ]);
    return run;
  });
}

export async function failRun(db: Db, input: { runId: string; executionId: string; failureCode: string }) {
  await db.reconciliationRun.updateMany({
    where: { id: input.runId, executionId: input.executionId, status: 'running' },
    data: { status: 'failed', completedAt: new Date(), error: input.failureCode },
  });
}

/** A run its workflow has not opened yet (just started, no worker has taken it): as it will open. */
export function unopenedRun(target: ReconciliationTarget): ReconciliationRun {
  return presentRun(
    {
      id: reconciliationRunId(target),
      ...target,
      date: dateOf(target.date),
      status: 'running',
      executions: 0,
      providerLines: 0,
      ledgerTransactions: 0,
      matched: 0,
      providerCaptured: 0n,
      providerRefunded: 0n,
      ledgerCaptured: 0n,
      ledgerRefunded: 0n,
      integrityHealthy: null,
      integrityDiscrepancies: null,
      error: null,
      startedAt: new Date(),
      completedAt: null,
    },
    noItems,
  );
}

/** Items per run, by kind and status, for a page of runs in one query. */
async function itemCounts(db: Db, runIds: string[]): Promise<Map<string, ItemCounts>> {
  if (runIds.length === 0) return new Map();
  const rows = await db.$queryRaw<{ run_id: string; kind: string; open: number; total: number }[]>`
    SELECT run_id, kind, count(*) FILTER (WHERE status = 'open')::int AS open, count(*)::int AS total
      FROM reconciliation_items WHERE run_id = ANY(${runIds}::text[]) GROUP BY run_id, kind`;
  const counts = new Map<string, ItemCounts>();
  for (const row of rows) {
    if (!isMismatchKind(row.kind)) throw new Error(`reconciliation item kind ${row.kind} is not a known one`);
    const known = counts.get(row.run_id) ?? { open: 0, byKind: { ...noItems.byKind } };
    known.open += row.open;
    known.byKind[row.kind] += row.total;
    counts.set(row.run_id, known);
  }
  return counts;
}

async function present(db: Db, runs: ReconciliationRunFacts[]): Promise<ReconciliationRun[]> {
  const counts = await itemCounts(
    db,
    runs.map((run) => run.id),
  );
  return runs.map((run) => presentRun(run, counts.get(run.id) ?? noItems));
}

export async function findRun(db: Db, id: string): Promise<ReconciliationRun | undefined> {
  const run = await db.reconciliationRun.findUnique({ where: { id } });
  return run ? (await present(db, [run]))[0] : undefined;
}

export const maxRunPageSize = 100;

/** Runs newest day first (ties by id), filtered, `limit` at a time after `startingAfter`. */
export async function listRuns(
  db: Db,
  filter: {
    provider?: string | undefined;
    currency?: string | undefined;
    date?: string | undefined;
    status?: string | undefined;
    limit: number;
    startingAfter?: string | undefined;
  },
): Promise<{ data: ReconciliationRun[]; hasMore: boolean } | undefined> {
  const where: Prisma.ReconciliationRunWhereInput = {
    provider: filter.provider,
    currency: filter.currency,
    status: filter.status,
    ...(filter.date ? { date: dateOf(filter.date) } : {}),
  };
  if (filter.startingAfter) {
    const cursor = await db.reconciliationRun.findUnique({
      where: { id: filter.startingAfter },
      select: { id: true, date: true },
    });
    if (!cursor) return undefined;
    where.OR = [{ date: { lt: cursor.date } }, { date: cursor.date, id: { lt: cursor.id } }];
  }
  const rows = await db.reconciliationRun.findMany({
    where,
    orderBy: [{ date: 'desc' }, { id: 'desc' }],
    take: filter.limit + 1,
  });
  return { data: await present(db, rows.slice(0, filter.limit)), hasMore: rows.length > filter.limit };
}
