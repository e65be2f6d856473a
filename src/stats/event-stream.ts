import { Type, type Static } from 'typebox';
import type { PrismaClient } from '../db/prisma.ts';

// The event stream's section of GET /v1/admin/stats: how far publishing to JetStream lags
// behind the outbox. Ages are measured on the database's clock, the one that stamped the events.

export const EventStreamStats = Type.Object({
  unpublished: Type.Integer({ minimum: 0, description: 'Events not yet acknowledged by JetStream.' }),
  oldest_unpublished_age_ms: Type.Integer({
    minimum: 0,
    description: 'Age of the oldest of them; 0 when there is none.',
  }),
  last_published_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'When the last acknowledgement was recorded; null before the first.',
  }),
});

export type EventStreamStats = Static<typeof EventStreamStats>;

export async function eventStreamStats(prisma: PrismaClient): Promise<EventStreamStats> {
  // Both unpublished figures read the partial index events_unpublished_idx, the last
  // publication the partial index events_published_idx (published events only: its predicate
  // must be in the query for the planner to use it).
  const [row] = await prisma.$queryRaw<{ unpublished: bigint; oldest_age_ms: bigint | null; last: Date | null }[]>`
    SELECT
      (SELECT count(*) FROM events WHERE published_at IS NULL) AS unpublished,
      (SELECT floor(extract(epoch FROM now() - min(created_at)) * 1000)::bigint
         FROM events WHERE published_at IS NULL) AS oldest_age_ms,
      (SELECT max(published_at) FROM events WHERE published_at IS NOT NULL) AS last`;
  if (!row) throw new Error('stats query returned no row');
  return {
    unpublished: Number(row.unpublished),
    oldest_unpublished_age_ms: row.oldest_age_ms === null ? 0 : Math.max(0, Number(row.oldest_age_ms)),
    last_published_at: row.last?.toISOString() ?? null,
  };
}
