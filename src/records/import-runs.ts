import { Type, type Static } from 'typebox';
import type { Db } from '../db/prisma.ts';

// Import runs as operators see them (GET /v1/imports, /v1/imports/:id), and their lifecycle
// writes. A run's counters are updated by each batch in the batch's own transaction
// (record_staged_batch), so they are exact whatever crashed when.

export const ImportRunSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('import_run'),
  status: Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')]),
  batches: Type.Integer(),
  rows: Type.Integer(),
  recorded: Type.Integer(),
  duplicates: Type.Integer(),
  invalid: Type.Integer(),
  /** The last staged row id it has processed: where a resumed run goes on from. */
  last_staging_id: Type.Union([Type.String(), Type.Null()]),
  /** Time spent inside batches, summed. */
  batch_time_ms: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  started_at: Type.String({ format: 'date-time' }),
  finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type ImportRunView = Static<typeof ImportRunSchema>;

interface ImportRunRow {
  id: string;
  status: string;
  batches: number;
  rows: number;
  recorded: number;
  duplicates: number;
  invalid: number;
  batchEndId: bigint | null;
  durationMs: number | null;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

/** A stored run status as the public one; anything else is a programmer's error. */
export function publicImportStatus(status: string): ImportRunView['status'] {
  if (status !== 'running' && status !== 'succeeded' && status !== 'failed') {
    throw new Error(`import status ${status} is not a public one`);
  }
  return status;
}

export function presentImportRun(row: ImportRunRow): ImportRunView {
  return {
    id: row.id,
    object: 'import_run',
    status: publicImportStatus(row.status),
    batches: row.batches,
    rows: row.rows,
    recorded: row.recorded,
    duplicates: row.duplicates,
    invalid: row.invalid,
    // Staging ids are BIGSERIAL: a string, exact past 2^53.
    last_staging_id: row.batchEndId === null ? null : row.batchEndId.toString(),
    batch_time_ms: row.durationMs ?? 0,
    error: row.error,
    started_at: row.startedAt.toISOString(),
    finished_at: row.finishedAt?.toISOString() ?? null,
  };
}

export async function openImportRun(db: Db, runId: string): Promise<void> {
  await db.importRun.createMany({ data: [{ id: runId, kind: 'run', status: 'running' }], skipDuplicates: true });
}

export async function closeImportRun(
  db: Db,
  runId: string,
  outcome: { status: 'succeeded' } | { status: 'failed'; error: string },
): Promise<void> {
  await db.importRun.updateMany({
    where: { id: runId, kind: 'run', status: 'running' },
    data: { status: outcome.status, finishedAt: new Date(), error: outcome.status === 'failed' ? outcome.error : null },
  });
}

export async function findImportRun(db: Db, runId: string): Promise<ImportRunView | undefined> {
  const row = await db.importRun.findFirst({ where: { id: runId, kind: 'run' } });
  return row ? presentImportRun(row) : undefined;
}

export async function listImportRuns(db: Db, page: { limit: number; startingAfter?: string | undefined }) {
  let before: Date | undefined;
  if (page.startingAfter) {
    const cursor = await db.importRun.findFirst({ where: { id: page.startingAfter, kind: 'run' } });
    before = cursor?.startedAt;
  }
  const rows = await db.importRun.findMany({
    where: { kind: 'run', ...(before ? { startedAt: { lt: before } } : {}) },
    orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
    take: page.limit + 1,
  });
  return { data: rows.slice(0, page.limit).map(presentImportRun), hasMore: rows.length > page.limit };
}
