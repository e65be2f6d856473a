// The verdict after a chaos scenario, in the manner of Hyperswitch's reconciliation: every
// payment is held against the provider's charges, our ledger and what the client was told,
// and classified `match`, `mismatch`, `missing` or `duplicate`. Pure: the facts are gathered
// elsewhere (test/chaos/observe.ts), so the rules are unit-tested on hand-made cases.

export type Verdict = 'match' | 'mismatch' | 'missing' | 'duplicate';
export const verdicts: readonly Verdict[] = ['match', 'mismatch', 'missing', 'duplicate'];

/** Statuses after which nothing happens without a new request (requires_attention waits for an operator). */
const finalStatuses = new Set(['succeeded', 'failed', 'canceled', 'requires_attention']);

/** One charge at the simulated provider, by its payment_id. */
export interface ChargeFact {
  provider: string;
  /** authorized, captured, voided or declined. */
  status: string;
  amount: bigint;
  captured: bigint;
  refunded: bigint;
}

/** Our read model's payment row and its refunds. */
export interface OursFact {
  status: string;
  source: 'card' | 'wallet';
  amount: bigint;
  captured: bigint;
  refunded: bigint;
  refunds: { id: string; status: string; amount: bigint }[];
}

/** The payment's ledger transactions, seen from the payer's account (provider clearing or the wallet). */
export interface LedgerFact {
  captureTransactions: number;
  /** What the payer's account gave up in capture transactions. */
  captured: bigint;
  /** Refund transactions per refund id; more than one for an id is a double refund. */
  refundTransactions: Record<string, number>;
  /** What the payer's account got back in refund transactions. */
  refunded: bigint;
}

/** A wallet payment's hold on the customer's account. */
export interface HoldFact {
  /** active, captured, released or expired. */
  status: string;
  amount: bigint;
  captured: bigint | null;
}

/** What the client was told for certain (answers it never got prove nothing). */
export interface ClientFact {
  idempotencyKey: string;
  /** Payment ids the API answered for this key; more than one is a second payment. */
  paymentIds: string[];
  /** amount_captured of a 2xx that showed the payment succeeded. */
  captured?: bigint;
  /** A cancel answered 200 with status canceled. */
  canceled?: boolean;
  /** Refunds answered 201 with status succeeded, summed. */
  refunded: bigint;
}

export interface PaymentFacts {
  paymentId: string;
  client?: ClientFact;
  ours?: OursFact;
  charges: ChargeFact[];
  ledger: LedgerFact;
  hold?: HoldFact;
}

export interface Classified {
  paymentId: string;
  verdict: Verdict;
  /** Our status, or `absent` when we have no payment row. */
  status: string;
  final: boolean;
  reasons: string[];
}

export const noLedger = (): LedgerFact => ({
  captureTransactions: 0,
  captured: 0n,
  refundTransactions: {},
  refunded: 0n,
});

function duplicates(facts: PaymentFacts): string[] {
  const reasons: string[] = [];
  if (facts.charges.length > 1) reasons.push(`${facts.charges.length} charges at the provider`);
  if (facts.ledger.captureTransactions > 1) reasons.push(`${facts.ledger.captureTransactions} capture postings`);
  for (const [refundId, count] of Object.entries(facts.ledger.refundTransactions)) {
    if (count > 1) reasons.push(`${count} postings of refund ${refundId}`);
  }
  if (facts.client && facts.client.paymentIds.length > 1) {
    reasons.push(`key ${facts.client.idempotencyKey} answered ${facts.client.paymentIds.length} payment ids`);
  }
  return reasons;
}

function missing(facts: PaymentFacts): string[] {
  const { ours, ledger } = facts;
  const charge = facts.charges[0];
  if (!ours) {
    const seenBy = [
      facts.client ? 'the client' : undefined,
      charge ? 'the provider' : undefined,
      ledger.captureTransactions > 0 ? 'the ledger' : undefined,
    ].filter(Boolean);
    return [`no payment row, known to ${seenBy.join(' and ') || 'nobody'}`];
  }
  const reasons: string[] = [];
  if (ours.source === 'card' && ours.captured > 0n && !charge)
    reasons.push('captured by us, no charge at the provider');
  if (ours.source === 'wallet' && ours.captured > 0n && !facts.hold) reasons.push('captured by us, no wallet hold');
  if (charge && charge.captured > 0n && ledger.captureTransactions === 0) {
    reasons.push('captured at the provider, not in the ledger');
  }
  if (ours.captured > 0n && ledger.captureTransactions === 0) reasons.push('captured by us, not in the ledger');
  return reasons;
}

/** What the provider's charge should look like for our status; undefined: anything goes. */
function chargeStatusesFor(status: string): string[] | undefined {
  switch (status) {
    case 'succeeded':
      return ['captured'];
    case 'requires_capture':
      return ['authorized'];
    case 'canceled':
      return ['voided', 'declined'];
    case 'failed':
      return ['voided', 'declined'];
    default:
      return undefined;
  }
}

function cardMismatches(ours: OursFact, charges: ChargeFact[]): string[] {
  const charge = charges[0];
  if (!charge) {
    return ours.status === 'succeeded' || ours.status === 'requires_capture'
      ? [`${ours.status} without a charge at the provider`]
      : [];
  }
  const reasons: string[] = [];
  const expected = chargeStatusesFor(ours.status);
  if (expected && !expected.includes(charge.status))
    reasons.push(`${ours.status} here, ${charge.status} at the provider`);
  if (charge.captured !== ours.captured)
    reasons.push(`captured ${ours.captured} here, ${charge.captured} at the provider`);
  if (charge.refunded !== ours.refunded)
    reasons.push(`refunded ${ours.refunded} here, ${charge.refunded} at the provider`);
  return reasons;
}

function walletMismatches(ours: OursFact, facts: PaymentFacts): string[] {
  const reasons: string[] = [];
  if (facts.charges.length > 0) reasons.push('a wallet payment with a charge at the provider');
  const hold = facts.hold;
  if (!hold) return ours.status === 'requires_capture' ? ['requires_capture without a hold'] : reasons;
  if (hold.status === 'active' && ours.status !== 'requires_capture')
    reasons.push(`${ours.status} with its hold active`);
  if (ours.status === 'succeeded' && (hold.status !== 'captured' || hold.captured !== ours.captured)) {
    reasons.push(`captured ${ours.captured} here, hold ${hold.status} with ${hold.captured ?? 'nothing'} captured`);
  }
  return reasons;
}

function clientMismatches(ours: OursFact, client: ClientFact | undefined): string[] {
  if (!client) return [];
  const reasons: string[] = [];
  if (client.captured !== undefined && client.captured !== ours.captured) {
    reasons.push(`client told ${client.captured} captured, ${ours.captured} here`);
  }
  if (client.canceled && ours.status !== 'canceled') reasons.push(`client told canceled, ${ours.status} here`);
  if (ours.refunded < client.refunded) reasons.push(`client told ${client.refunded} refunded, ${ours.refunded} here`);
  return reasons;
}

function mismatches(facts: PaymentFacts, ours: OursFact): string[] {
  const reasons: string[] = [];
  if (facts.ledger.captured !== ours.captured)
    reasons.push(`captured ${ours.captured} here, ${facts.ledger.captured} in the ledger`);
  if (facts.ledger.refunded !== ours.refunded)
    reasons.push(`refunded ${ours.refunded} here, ${facts.ledger.refunded} in the ledger`);
  const source = ours.source === 'card' ? cardMismatches(ours, facts.charges) : walletMismatches(ours, facts);
  return [...reasons, ...source, ...clientMismatches(ours, facts.client)];
}

function isFinal(ours: OursFact | undefined): boolean {
  if (!ours || !finalStatuses.has(ours.status)) return false;
  return ours.refunds.every((refund) => refund.status !== 'pending');
}

/** The class of one payment: duplicate before missing before mismatch, so the worst shows. */
export function classifyPayment(facts: PaymentFacts): Classified {
  const base = { paymentId: facts.paymentId, status: facts.ours?.status ?? 'absent', final: isFinal(facts.ours) };
  const doubled = duplicates(facts);
  if (doubled.length > 0) return { ...base, verdict: 'duplicate', reasons: doubled };
  const lost = missing(facts);
  if (lost.length > 0 || !facts.ours) return { ...base, verdict: 'missing', reasons: lost };
  const differing = mismatches(facts, facts.ours);
  if (differing.length > 0) return { ...base, verdict: 'mismatch', reasons: differing };
  return { ...base, verdict: 'match', reasons: [] };
}

export interface BooksFact {
  /** Rows of src/ledger/reconcile.ts, as text. */
  discrepancies: string[];
  /** The sum of every ledger entry, all currencies together. */
  entriesSum: bigint;
}

export interface ScenarioVerdict {
  scenario: string;
  rows: Classified[];
  counts: Record<Verdict, number>;
  /** Payments per our status. */
  statuses: Record<string, number>;
  books: BooksFact;
  /** Why the scenario fails; empty when it passes. */
  failures: string[];
}

export function judgeScenario(scenario: string, payments: PaymentFacts[], books: BooksFact): ScenarioVerdict {
  const rows = payments.map(classifyPayment).sort((a, b) => a.paymentId.localeCompare(b.paymentId));
  const counts = Object.fromEntries(verdicts.map((verdict) => [verdict, 0])) as Record<Verdict, number>;
  const statuses: Record<string, number> = {};
  for (const row of rows) {
    counts[row.verdict] += 1;
    statuses[row.status] = (statuses[row.status] ?? 0) + 1;
  }
  const failures: string[] = [];
  const unmatched = rows.length - counts.match;
  if (unmatched > 0) failures.push(`${unmatched} payment(s) not matched`);
  const open = rows.filter((row) => !row.final).length;
  if (open > 0) failures.push(`${open} payment(s) not final`);
  if (books.discrepancies.length > 0) failures.push(`ledger integrity: ${books.discrepancies.length} discrepancies`);
  if (books.entriesSum !== 0n) failures.push(`ledger entries sum to ${books.entriesSum}, not 0`);
  return { scenario, rows, counts, statuses, books, failures };
}

/** The verdict as text for CI's log: counts per class and status, then every row that is not a final match. */
export function verdictTable(verdict: ScenarioVerdict): string {
  const lines = [`chaos verdict: ${verdict.scenario} (${verdict.rows.length} payments)`];
  lines.push(`  class      ${verdicts.map((name) => name.padStart(10)).join('')}`);
  lines.push(`  payments   ${verdicts.map((name) => String(verdict.counts[name]).padStart(10)).join('')}`);
  const statuses = Object.entries(verdict.statuses).sort(([a], [b]) => a.localeCompare(b));
  lines.push(`  status     ${statuses.map(([status, count]) => `${status}=${count}`).join(' ')}`);
  lines.push(
    `  ledger     integrity ${verdict.books.discrepancies.length === 0 ? 'clean' : verdict.books.discrepancies.join('; ')}, entries sum ${verdict.books.entriesSum}`,
  );
  for (const row of verdict.rows.filter((candidate) => candidate.verdict !== 'match' || !candidate.final)) {
    lines.push(
      `  ${row.verdict.padEnd(10)} ${row.paymentId} ${row.status}${row.final ? '' : ' (not final)'}: ${row.reasons.join('; ') || '-'}`,
    );
  }
  lines.push(`  result     ${verdict.failures.length === 0 ? 'PASS' : `FAIL: ${verdict.failures.join('; ')}`}`);
  return lines.join('\n');
}
