import { Type, type Static } from 'typebox';
import type { Db } from '../db/prisma.ts';

// The staging backlog, in GET /v1/admin/stats and /ready: staged rows the import has not
// processed yet. Both figures read only the partial index payment_staging_unprocessed_idx
// (unprocessed rows by id; processed rows leave it), so their cost follows the backlog, not
// the table, and the count stops at the caller's limit.

export const StagingBacklog = Type.Object({
  pending: Type.Integer({
    minimum: 0,
    description:
      'Unprocessed staged rows, of every merchant (also those outside IMPORT_MERCHANT_IDS), counted up to a limit.',
  }),
  pending_capped: Type.Boolean({
    description: 'True when there are more than `pending`: counting stopped at the limit.',
  }),
  oldest_pending_age_ms: Type.Integer({
    minimum: 0,
    description: "How long the import's next row (the lowest unprocessed id) has been staged; 0 when none.",
  }),
});

export type StagingBacklog = Static<typeof StagingBacklog>;

export async function stagingBacklog(db: Db, maxRowsCounted: number): Promise<StagingBacklog> {
  // One more than the limit tells "exactly the limit" from "more".
  const [row] = await db.$queryRaw<{ pending: bigint; oldest_age_ms: bigint | null }[]>`
    SELECT
      (SELECT count(*) FROM (SELECT 1 FROM payment_staging WHERE processed_at IS NULL
                              LIMIT ${maxRowsCounted + 1}::int) unprocessed) AS pending,
      (SELECT floor(extract(epoch FROM now() - created_at) * 1000)::bigint
         FROM payment_staging WHERE processed_at IS NULL ORDER BY id LIMIT 1) AS oldest_age_ms`;
  if (!row) throw new Error('stats query returned no row');
  const pending = Number(row.pending);
  return {
    pending: Math.min(pending, maxRowsCounted),
    pending_capped: pending > maxRowsCounted,
    oldest_pending_age_ms: row.oldest_age_ms === null ? 0 : Math.max(0, Number(row.oldest_age_ms)),
  };
}
