import { Type, type Static } from 'typebox';
import type { Db } from '../db/prisma.ts';

// The staging import's section of GET /v1/admin/stats: what it processed since the UTC day
// began. Summed from the import's batch rows (import_runs, kind `batch`: about one per
// IMPORT_BATCH_SIZE rows), read through the index on (kind, started_at): a million rows a day
// is a thousand index entries, never a scan of payment_staging or recorded_payments.

export const StagingTodayStats = Type.Object({
  rows: Type.Integer({
    minimum: 0,
    description: 'Staged rows the import processed today (by batch start, UTC day), whatever their outcome.',
  }),
  recorded: Type.Integer({ minimum: 0, description: 'Of them, recorded as new payments.' }),
  duplicates: Type.Integer({
    minimum: 0,
    description: 'Of them, duplicates of a reference already recorded (by an earlier row, batch or the webhook).',
  }),
  invalid: Type.Integer({ minimum: 0, description: 'Of them, invalid (`invalid: <reason>` on the staged row).' }),
  duplicate_rate: Type.Number({
    minimum: 0,
    maximum: 1,
    description: 'duplicates / rows, from 0 to 1; 0 when nothing was processed.',
  }),
});

export type StagingTodayStats = Static<typeof StagingTodayStats>;

export async function stagingTodayStats(db: Db, since: Date): Promise<StagingTodayStats> {
  const [row] = await db.$queryRaw<{ rows: bigint; recorded: bigint; duplicates: bigint; invalid: bigint }[]>`
    SELECT coalesce(sum("rows"), 0)::bigint AS rows, coalesce(sum(recorded), 0)::bigint AS recorded,
           coalesce(sum(duplicates), 0)::bigint AS duplicates, coalesce(sum(invalid), 0)::bigint AS invalid
      FROM import_runs WHERE kind = 'batch' AND started_at >= ${since}`;
  if (!row) throw new Error('stats query returned no row');
  const rows = Number(row.rows);
  const duplicates = Number(row.duplicates);
  return {
    rows,
    recorded: Number(row.recorded),
    duplicates,
    invalid: Number(row.invalid),
    duplicate_rate: rows === 0 ? 0 : duplicates / rows,
  };
}
