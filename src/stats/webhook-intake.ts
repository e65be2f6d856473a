import { Type, type Static } from 'typebox';
import type { Db } from '../db/prisma.ts';

// The recording webhook's intake, in GET /v1/admin/stats: references it claimed today and
// those still waiting for their workflow to record them. Read from payment_references through
// its index on (source, recorded_at, created_at). A duplicate answer writes nothing, so it is
// not counted here.

export const WebhookIntakeStats = Type.Object({
  accepted_today: Type.Integer({
    minimum: 0,
    description: 'Records the webhook accepted (answered `created`) today, UTC day.',
  }),
  awaiting_record: Type.Integer({
    minimum: 0,
    description: 'Accepted records, of any day, whose workflow has not recorded them yet (the sweeper restarts them).',
  }),
});

export type WebhookIntakeStats = Static<typeof WebhookIntakeStats>;

export async function webhookIntakeStats(db: Db, since: Date): Promise<WebhookIntakeStats> {
  // A claim is recorded after it is made: one claimed today is recorded today or not yet, two
  // ranges of the index instead of a scan of every webhook reference.
  const [row] = await db.$queryRaw<{ recorded_today: bigint; waiting_today: bigint; awaiting: bigint }[]>`
    SELECT
      (SELECT count(*) FROM payment_references
        WHERE source = 'webhook' AND recorded_at >= ${since} AND created_at >= ${since}) AS recorded_today,
      (SELECT count(*) FROM payment_references
        WHERE source = 'webhook' AND recorded_at IS NULL AND created_at >= ${since}) AS waiting_today,
      (SELECT count(*) FROM payment_references WHERE source = 'webhook' AND recorded_at IS NULL) AS awaiting`;
  if (!row) throw new Error('stats query returned no row');
  return {
    accepted_today: Number(row.recorded_today) + Number(row.waiting_today),
    awaiting_record: Number(row.awaiting),
  };
}
