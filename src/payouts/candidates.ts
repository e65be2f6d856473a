import type { Db } from '../db/prisma.ts';
import type { ProviderName } from '../providers/provider.ts';
import type { PayoutInput } from '../domain/payout-view.ts';
import {
  effectivePayoutSettings,
  scheduleRunsOn,
  type PayoutDefaults,
  type PayoutTiming,
} from '../domain/payout-settings.ts';
import { scheduledPayoutId } from './payout-ids.ts';

// Who the payout schedule pays out on a day: every merchant whose schedule runs that day, in
// every currency whose available balance reaches its minimum, the whole available balance.
// The payout's id is derived from merchant, currency and day, so the day's run starts at
// most one payout each, however often it runs.

export interface CandidateQuery {
  /** UTC day, YYYY-MM-DD. */
  date: string;
  /** Only these merchants; empty: all. */
  merchantIds: readonly string[];
  defaults: PayoutDefaults;
  provider: ProviderName;
  timing: PayoutTiming;
}

export async function payoutCandidates(db: Db, query: CandidateQuery): Promise<PayoutInput[]> {
  const rows = await db.$queryRaw<
    {
      merchant_id: string;
      payout_schedule: string | null;
      payout_minimum_minor: bigint | null;
      currency: string;
      available: bigint;
    }[]
  >`
    SELECT m.id AS merchant_id, m.payout_schedule, m.payout_minimum_minor, a.currency, a.balance - a.held AS available
      FROM accounts a
      JOIN merchants m ON m.id = a.merchant_id
     WHERE a.type = 'merchant_available' AND a.balance - a.held > 0
       AND (cardinality(${[...query.merchantIds]}::text[]) = 0 OR m.id = ANY(${[...query.merchantIds]}::text[]))
     ORDER BY m.id, a.currency`;
  return rows.flatMap((row) => {
    const settings = effectivePayoutSettings(
      { schedule: row.payout_schedule, minimumMinor: row.payout_minimum_minor },
      query.defaults,
    );
    if (!scheduleRunsOn(settings.schedule, query.date) || row.available < settings.minimumMinor) return [];
    return [
      {
        payoutId: scheduledPayoutId(row.merchant_id, row.currency, query.date),
        merchantId: row.merchant_id,
        amount: row.available,
        currency: row.currency,
        automatic: true,
        description: null,
        provider: query.provider,
        timing: query.timing,
      },
    ];
  });
}
