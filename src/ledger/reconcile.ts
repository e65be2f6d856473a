import type { Db } from '../db/prisma.ts';

// The books check themselves: every cached balance equals the sum of its entries, every
// cached `held` equals its active holds, every entry's balance_after is the running sum, and
// each currency's entries sum to zero. Any row returned here is a bug or tampering.

export type Discrepancy =
  | { kind: 'balance_mismatch'; accountId: string; cached: bigint; fromEntries: bigint }
  | { kind: 'held_mismatch'; accountId: string; cached: bigint; fromHolds: bigint }
  | { kind: 'balance_after_mismatch'; accountId: string; entryId: string; recorded: bigint; runningSum: bigint }
  | { kind: 'currency_unbalanced'; currency: string; sum: bigint };

export async function reconcile(db: Db): Promise<Discrepancy[]> {
  const balances = await db.$queryRaw<{ account_id: string; cached: bigint; from_entries: bigint }[]>`
    SELECT a.id AS account_id, a.balance AS cached, coalesce(e.total, 0)::bigint AS from_entries
      FROM accounts a
      LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_entries GROUP BY account_id) e ON e.account_id = a.id
     WHERE a.balance <> coalesce(e.total, 0)`;
  const helds = await db.$queryRaw<{ account_id: string; cached: bigint; from_holds: bigint }[]>`
    SELECT a.id AS account_id, a.held AS cached, coalesce(h.total, 0)::bigint AS from_holds
      FROM accounts a
      LEFT JOIN (SELECT account_id, sum(amount) AS total FROM holds WHERE status = 'active' GROUP BY account_id) h
        ON h.account_id = a.id
     WHERE a.held <> coalesce(h.total, 0)`;
  const runningSums = await db.$queryRaw<{ account_id: string; entry_id: string; recorded: bigint; running: bigint }[]>`
    SELECT account_id, id AS entry_id, balance_after AS recorded, running::bigint
      FROM (SELECT account_id, id, balance_after,
                   sum(amount) OVER (PARTITION BY account_id ORDER BY sequence) AS running
              FROM ledger_entries) s
     WHERE balance_after <> running`;
  const currencies = await db.$queryRaw<{ currency: string; total: bigint }[]>`
    SELECT currency, sum(amount)::bigint AS total FROM ledger_entries GROUP BY currency HAVING sum(amount) <> 0`;
  return [
    ...balances.map((row) => ({
      kind: 'balance_mismatch' as const,
      accountId: row.account_id,
      cached: row.cached,
      fromEntries: row.from_entries,
    })),
    ...helds.map((row) => ({
      kind: 'held_mismatch' as const,
      accountId: row.account_id,
      cached: row.cached,
      fromHolds: row.from_holds,
    })),
    ...runningSums.map((row) => ({
      kind: 'balance_after_mismatch' as const,
      accountId: row.account_id,
      entryId: row.entry_id,
      recorded: row.recorded,
      runningSum: row.running,
    })),
    ...currencies.map((row) => ({ kind: 'currency_unbalanced' as const, currency: row.currency, sum: row.total })),
  ];
}
