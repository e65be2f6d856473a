import type { Db } from '../db/prisma.ts';
import { dayMs, utcDayStartMs, type ReconciliationTarget } from '../domain/reconciliation.ts';
import { systemAccountId } from '../ledger/ledger.ts';
import type { ProviderGateway, ProviderName } from '../providers/provider.ts';
import { allCurrencyCodes, isCurrencyCode } from '../domain/money.ts';

// Which runs a day needs: every provider and currency that either side saw move. Our side is
// the day's provider_clearing movements of captures and refunds, by their payment's provider;
// the provider's side is the currencies its report for the day totals.

export async function reconciliationTargets(
  db: Db,
  providers: ProviderGateway,
  input: { date: string; providers: readonly ProviderName[] },
): Promise<ReconciliationTarget[]> {
  const startMs = utcDayStartMs(input.date);
  if (startMs === undefined) throw new Error(`reconciliation date ${input.date} is not a calendar date`);
  const clearingAccounts = allCurrencyCodes().map((currency) => systemAccountId('provider_clearing', currency));
  const ours = await db.$queryRaw<{ provider: string; currency: string }[]>`
    SELECT DISTINCT p.provider, e.currency
      FROM ledger_entries e
      JOIN ledger_transactions t ON t.id = e.transaction_id AND t.kind IN ('payment_capture', 'refund')
      JOIN payments p ON p.id = coalesce(t.metadata ->> 'payment_id', t.reference)
     WHERE e.account_id = ANY(${clearingAccounts}::text[])
       AND e.created_at >= ${new Date(startMs)} AND e.created_at < ${new Date(startMs + dayMs)}
       AND p.provider = ANY(${[...input.providers]}::text[])`;
  const keys = new Set(ours.map((row) => `${row.provider}:${row.currency}`));
  for (const provider of input.providers) {
    for (const currency of await providers.settlementReports(provider).currencies(input.date)) {
      // A code that is not ISO 4217 names no account of ours: nothing a run could compare.
      if (isCurrencyCode(currency)) keys.add(`${provider}:${currency}`);
    }
  }
  return [...keys].sort().map((key) => {
    const [provider, currency] = key.split(':') as [ProviderName, string];
    return { provider, currency, date: input.date };
  });
}
