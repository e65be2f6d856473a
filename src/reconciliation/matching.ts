import type { PrismaClient } from '../db/prisma.ts';
import { dayMs, utcDayStartMs, type ReconciliationTarget } from '../domain/reconciliation.ts';
import { appendPlatformEvents } from '../events/outbox.ts';
import type { ColumnCipher } from '../crypto/column-cipher.ts';
import { systemAccountId } from '../ledger/ledger.ts';
import { presentItem, type ReconciliationItemFacts } from './public-item.ts';

// The matching of a run's stored report lines with our ledger, set-based, in ONE statement:
// however large the report, PostgreSQL joins it with the ledger, not a loop in Node.
//
// Our side is every ledger transaction of a payment's capture or refund that moved this
// currency's provider_clearing account, attributed to the provider by its payment (or, for a
// movement whose payment we have no row of, by the provider's report naming it). Each side gets
// the same match key (see report-lines.ts): a capture by its payment, a refund by the
// provider's refund id our refund recorded. A refund booked without that id (a provider-side
// refund announced only by its charge's new total) is paired with an unclaimed refund line of
// the same payment and amount, the first with the first.
//
// The run owns the keys of its report's lines (their ledger transactions are looked for at any
// time: a capture posted just after midnight still matches its line) and the keys of its day's
// ledger transactions that no other stored report of the provider names (a posting after
// midnight for a capture the day before belongs to that day's run, which runs first). Per key:
//   more than one line or transaction      duplicate
//   a line, no transaction                 missing_in_ledger
//   a transaction, no line                 missing_at_provider
//   one each, amounts differ               amount_mismatch
// Items are unique per run, kind and key: a re-run inserts none twice, and each new one is
// announced once (reconciliation.mismatch_found) in the same transaction.

export interface MatchResult {
  providerLines: number;
  ledgerTransactions: number;
  matched: number;
  /** Items this execution found for the first time. */
  newItems: number;
}

/** A large day's statement and its events: minutes, not the seconds of a payment step. */
const matchTimeoutMs = 10 * 60 * 1000;

interface ItemRow {
  id: string;
  run_id: string;
  kind: string;
  subject: string;
  payment_id: string | null;
  provider_line_ids: string[];
  ledger_transaction_ids: string[];
  provider_amount: bigint | null;
  ledger_amount: bigint | null;
  status: string;
  note: string | null;
  resolved_at: Date | null;
  created_at: Date;
}

export async function matchReport(
  prisma: PrismaClient,
  cipher: ColumnCipher,
  input: ReconciliationTarget & { runId: string },
): Promise<MatchResult> {
  const startMs = utcDayStartMs(input.date);
  if (startMs === undefined) throw new Error(`reconciliation date ${input.date} is not a calendar date`);
  const dayStart = new Date(startMs);
  const dayEnd = new Date(startMs + dayMs);
  const clearing = systemAccountId('provider_clearing', input.currency);
  const { runId, provider } = input;
  return prisma.$transaction(
    async (tx) => {
      const found = await tx.$queryRaw<ItemRow[]>`
        WITH run_lines AS (
          SELECT l.line_id, l.kind, l.payment_id, l.amount, l.occurred_at, l.match_key,
                 (l.kind = 'refund' AND l.payment_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.provider_refund_id = l.line_id)) AS unclaimed
            FROM reconciliation_lines l
           WHERE l.run_id = ${runId}
        ), provider_side AS (
          SELECT line_id, kind, payment_id, amount,
                 CASE WHEN unclaimed
                      THEN 'refund:' || payment_id || ':' || amount || '#'
                           || row_number() OVER (PARTITION BY unclaimed, payment_id, amount
                                                 ORDER BY occurred_at, line_id)
                      ELSE match_key END AS match_key
            FROM run_lines
        ), candidates AS (
          SELECT e.transaction_id FROM ledger_entries e
           WHERE e.account_id = ${clearing} AND e.created_at >= ${dayStart} AND e.created_at < ${dayEnd}
          UNION
          SELECT t.id FROM ledger_transactions t
           WHERE t.kind = 'payment_capture'
             AND t.reference IN (SELECT payment_id FROM run_lines WHERE kind = 'capture' AND payment_id IS NOT NULL)
          UNION
          SELECT t.id FROM refunds r JOIN ledger_transactions t ON t.kind = 'refund' AND t.reference = r.id
           WHERE r.provider_refund_id IN (SELECT line_id FROM run_lines WHERE kind = 'refund' AND NOT unclaimed)
        ), ledger AS (
          SELECT t.id AS transaction_id, t.kind, t.created_at, abs(e.amount) AS amount,
                 coalesce(t.metadata ->> 'payment_id', t.reference) AS payment_id,
                 p.id IS NOT NULL AS known_payment, p.provider, r.provider_refund_id,
                 (e.created_at >= ${dayStart} AND e.created_at < ${dayEnd}) AS of_day
            FROM candidates c
            JOIN ledger_transactions t ON t.id = c.transaction_id AND t.kind IN ('payment_capture', 'refund')
            JOIN ledger_entries e ON e.transaction_id = t.id AND e.account_id = ${clearing}
            LEFT JOIN refunds r ON t.kind = 'refund' AND r.id = t.reference
            LEFT JOIN payments p ON p.id = coalesce(t.metadata ->> 'payment_id', t.reference)
        ), ledger_keyed AS (
          SELECT transaction_id, kind, amount, payment_id, known_payment, provider, of_day,
                 CASE WHEN kind = 'payment_capture' THEN 'capture:' || payment_id
                      WHEN provider_refund_id IS NOT NULL THEN 'refund:' || provider_refund_id
                      ELSE 'refund:' || payment_id || ':' || amount || '#'
                           || row_number() OVER (PARTITION BY kind, provider_refund_id IS NULL, payment_id, amount
                                                 ORDER BY created_at, transaction_id)
                 END AS match_key
            FROM ledger
        ), ledger_side AS (
          SELECT * FROM ledger_keyed
           WHERE provider = ${provider}
              OR (NOT known_payment AND match_key IN (SELECT match_key FROM provider_side))
        ), owned AS (
          SELECT match_key FROM provider_side
          UNION
          SELECT s.match_key FROM ledger_side s
           WHERE s.of_day AND NOT EXISTS (
             SELECT 1 FROM reconciliation_lines o JOIN reconciliation_runs other ON other.id = o.run_id
              WHERE o.match_key = s.match_key AND o.run_id <> ${runId} AND other.provider = ${provider})
        ), provider_keys AS (
          SELECT match_key, count(*) AS n, sum(amount) AS amount, array_agg(line_id ORDER BY line_id) AS ids,
                 min(payment_id) AS payment_id
            FROM provider_side GROUP BY match_key
        ), ledger_keys AS (
          SELECT match_key, count(*) AS n, sum(amount) AS amount,
                 array_agg(transaction_id ORDER BY transaction_id) AS ids, min(payment_id) AS payment_id
            FROM ledger_side WHERE match_key IN (SELECT match_key FROM owned) GROUP BY match_key
        ), compared AS (
          SELECT coalesce(p.match_key, l.match_key) AS match_key, coalesce(p.payment_id, l.payment_id) AS payment_id,
                 p.amount AS provider_amount, l.amount AS ledger_amount,
                 coalesce(p.ids, '{}') AS provider_ids, coalesce(l.ids, '{}') AS ledger_ids,
                 CASE WHEN p.n > 1 OR l.n > 1 THEN 'duplicate'
                      WHEN l.n IS NULL THEN 'missing_in_ledger'
                      WHEN p.n IS NULL THEN 'missing_at_provider'
                      WHEN p.amount <> l.amount THEN 'amount_mismatch' END AS verdict
            FROM provider_keys p FULL JOIN ledger_keys l ON l.match_key = p.match_key
        ), figures AS (
          UPDATE reconciliation_runs SET
            provider_lines = (SELECT count(*) FROM provider_side),
            ledger_transactions = (SELECT count(*) FROM ledger_side WHERE of_day),
            matched = (SELECT count(*) FROM compared WHERE verdict IS NULL),
            ledger_captured = (SELECT coalesce(sum(amount), 0) FROM ledger_side
                                WHERE of_day AND kind = 'payment_capture'),
            ledger_refunded = (SELECT coalesce(sum(amount), 0) FROM ledger_side WHERE of_day AND kind = 'refund')
           WHERE id = ${runId}
        )
        INSERT INTO reconciliation_items (id, run_id, kind, subject, match_key, payment_id, provider_line_ids,
                                          ledger_transaction_ids, provider_amount, ledger_amount)
        SELECT new_id('rci'), ${runId}, verdict, CASE WHEN match_key LIKE 'refund:%' THEN 'refund' ELSE 'capture' END,
               match_key, payment_id, provider_ids, ledger_ids, provider_amount, ledger_amount
          FROM compared WHERE verdict IS NOT NULL
         ORDER BY verdict, match_key
        ON CONFLICT (run_id, kind, match_key) DO NOTHING
        RETURNING id, run_id, kind, subject, payment_id, provider_line_ids, ledger_transaction_ids, provider_amount,
                  ledger_amount, status, note, resolved_at, created_at`;
      const items = found.map((row): ReconciliationItemFacts => ({
        id: row.id,
        runId: row.run_id,
        kind: row.kind,
        subject: row.subject,
        status: row.status,
        paymentId: row.payment_id,
        currency: input.currency,
        providerLineIds: row.provider_line_ids,
        ledgerTransactionIds: row.ledger_transaction_ids,
        providerAmount: row.provider_amount,
        ledgerAmount: row.ledger_amount,
        note: row.note,
        resolvedAt: row.resolved_at,
        createdAt: row.created_at,
      }));
      await appendPlatformEvents(
        tx,
        cipher,
        items.map((item) => ({
          type: 'reconciliation.mismatch_found',
          resourceId: item.id,
          data: presentItem(item),
          sourceKey: `reconciliation_item:${item.id}`,
        })),
      );
      const run = await tx.reconciliationRun.findUniqueOrThrow({
        where: { id: runId },
        select: { providerLines: true, ledgerTransactions: true, matched: true },
      });
      return { ...run, newItems: items.length };
    },
    { isolationLevel: 'ReadCommitted', maxWait: 10_000, timeout: matchTimeoutMs },
  );
}
