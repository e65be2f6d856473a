import { Type, type Static } from 'typebox';
import type { Db } from '../db/prisma.ts';
import { ImportRunSchema, publicImportStatus } from '../records/import-runs.ts';

// The most recent import run (the newest import_runs row of kind `run`, through the index on
// (kind, started_at)), in /ready and GET /v1/admin/stats. The schedule starts one every
// IMPORT_INTERVAL_MS, so a fresh finished_at says the schedule and the worker are alive.

export const LastImportRun = Type.Union([
  Type.Object({
    id: Type.String(),
    status: ImportRunSchema.properties.status,
    started_at: Type.String({ format: 'date-time' }),
    finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'Null while it runs.',
    }),
  }),
  Type.Null(),
]);

export type LastImportRun = Static<typeof LastImportRun>;

export async function lastImportRun(db: Db): Promise<LastImportRun> {
  const run = await db.importRun.findFirst({
    where: { kind: 'run' },
    orderBy: { startedAt: 'desc' },
    select: { id: true, status: true, startedAt: true, finishedAt: true },
  });
  if (!run) return null;
  return {
    id: run.id,
    status: publicImportStatus(run.status),
    started_at: run.startedAt.toISOString(),
    finished_at: run.finishedAt?.toISOString() ?? null,
  };
}
