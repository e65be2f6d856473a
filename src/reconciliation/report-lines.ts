import type { Db } from '../db/prisma.ts';
import type { ProviderName } from '../providers/provider.ts';
import type { SettlementPage } from '../providers/settlement-report.ts';

// A page of the provider's settlement report, stored as the run's lines in one statement,
// each with the key it is matched by:
//   capture  capture:<payment id>   our payment for the charge, else the one the provider echoes
//            charge:<charge id>     when neither names a payment
//   refund   refund:<line id>       the provider's refund id, which our refunds record
// A line stored once is never replaced: a re-run of the day adds only lines it had not seen.
// Lines of another currency than the run's are not the run's, and lines that move nothing
// carry nothing to match: both are left out.

export async function storeReportPage(
  db: Db,
  run: { runId: string; provider: ProviderName; currency: string },
  page: SettlementPage,
): Promise<number> {
  const lines = page.lines;
  const stored = await db.$executeRaw`
    INSERT INTO reconciliation_lines (run_id, line_id, kind, charge_id, payment_id, amount, currency, occurred_at,
                                      match_key)
    SELECT ${run.runId}, x.line_id, x.kind, x.charge_id, coalesce(p.id, x.payment_id), x.amount, x.currency,
           x.occurred_at,
           CASE WHEN x.kind = 'refund' THEN 'refund:' || x.line_id
                WHEN coalesce(p.id, x.payment_id) IS NOT NULL THEN 'capture:' || coalesce(p.id, x.payment_id)
                ELSE 'charge:' || x.charge_id END
      FROM unnest(${lines.map((line) => line.lineId)}::text[], ${lines.map((line) => line.kind)}::text[],
                  ${lines.map((line) => line.chargeId)}::text[], ${lines.map((line) => line.paymentId)}::text[],
                  ${lines.map((line) => line.amount)}::bigint[], ${lines.map((line) => line.currency)}::text[],
                  ${lines.map((line) => line.occurredAt.toISOString())}::timestamptz[])
           AS x(line_id, kind, charge_id, payment_id, amount, currency, occurred_at)
      LEFT JOIN payments p ON p.provider = ${run.provider} AND p.provider_charge_id = x.charge_id
     WHERE x.currency = ${run.currency} AND x.amount > 0
    ON CONFLICT (run_id, line_id) DO NOTHING`;
  await db.reconciliationRun.update({
    where: { id: run.runId },
    data: { providerCaptured: page.totals.captured, providerRefunded: page.totals.refunded },
  });
  return stored;
}
