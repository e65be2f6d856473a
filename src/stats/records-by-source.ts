import { Type, type Static } from 'typebox';
import type { Db } from '../db/prisma.ts';

// Recorded payments made today, by the way they came, in GET /v1/admin/stats. Neither figure
// counts recorded_payments (partitioned, millions of rows): the import's from its batch
// counters (import_runs), the webhook's from payment_references through its index on
// (source, recorded_at, created_at).

export const RecordsBySourceStats = Type.Object({
  staging: Type.Integer({ minimum: 0, description: 'Recorded today by the staging import (by batch start, UTC day).' }),
  webhook: Type.Integer({
    minimum: 0,
    description: "Recorded today by the recording webhook's workflows (by recorded_at, UTC day).",
  }),
});

export type RecordsBySourceStats = Static<typeof RecordsBySourceStats>;

export async function recordsBySourceStats(db: Db, since: Date): Promise<RecordsBySourceStats> {
  const [row] = await db.$queryRaw<{ staging: bigint; webhook: bigint }[]>`
    SELECT
      (SELECT coalesce(sum(recorded), 0)::bigint FROM import_runs
        WHERE kind = 'batch' AND started_at >= ${since}) AS staging,
      (SELECT count(*) FROM payment_references
        WHERE source = 'webhook' AND recorded_at >= ${since}) AS webhook`;
  if (!row) throw new Error('stats query returned no row');
  return { staging: Number(row.staging), webhook: Number(row.webhook) };
}
