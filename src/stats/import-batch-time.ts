import { Type, type Static } from 'typebox';
import type { Db } from '../db/prisma.ts';

// How long the import's batches take, in GET /v1/admin/stats: averaged over the most recent
// committed batches (import_runs, kind `batch`, newest by the index on (kind, started_at)).
// A batch's time is measured inside its database transaction (record_staged_batch).

export const ImportBatchTimeStats = Type.Object({
  batches: Type.Integer({ minimum: 0, description: 'The batches averaged: the most recent ones, up to the window.' }),
  average_batch_ms: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description: "Their average time inside the batch's transaction, rounded; null when there is none.",
  }),
  average_batch_rows: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description: 'Their average size in staged rows, rounded; null when there is none.',
  }),
  rows_per_second: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description: 'Their rows over their summed time; null when there is none or it took no measurable time.',
  }),
});

export type ImportBatchTimeStats = Static<typeof ImportBatchTimeStats>;

export async function importBatchTimeStats(db: Db, windowBatches: number): Promise<ImportBatchTimeStats> {
  const [row] = await db.$queryRaw<
    { batches: number; average_ms: number | null; average_rows: number | null; rows: bigint; ms: bigint }[]
  >`
    SELECT count(*)::int AS batches, round(avg(duration_ms))::int AS average_ms, round(avg("rows"))::int AS average_rows,
           coalesce(sum("rows"), 0)::bigint AS rows, coalesce(sum(duration_ms), 0)::bigint AS ms
      FROM (SELECT duration_ms, "rows" FROM import_runs
             WHERE kind = 'batch' AND status = 'succeeded'
             ORDER BY started_at DESC LIMIT ${windowBatches}::int) recent`;
  if (!row) throw new Error('stats query returned no row');
  const ms = Number(row.ms);
  return {
    batches: row.batches,
    average_batch_ms: row.average_ms,
    average_batch_rows: row.average_rows,
    rows_per_second: ms === 0 ? null : Math.round((Number(row.rows) * 1_000) / ms),
  };
}
