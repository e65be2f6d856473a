import type { FastifyInstance } from 'fastify';
import type { PrismaClient } from '../../src/db/prisma.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { systemAccountId } from '../../src/ledger/ledger.ts';
import type { PaymentRun } from './load.ts';
import {
  noLedger,
  type BooksFact,
  type ChargeFact,
  type HoldFact,
  type LedgerFact,
  type OursFact,
  type PaymentFacts,
} from './verdict.ts';

// Gathers the facts the verdict judges, after a scenario: our payments and refunds, the
// simulator's charges (GET /admin/charges), the ledger's postings and holds, the books'
// integrity. A scenario has a database and a simulator of its own, so everything there is its.

const chargesPerProviderLimit = 1_000;

interface ChargeView {
  provider: string;
  id: string;
  payment_id: string | null;
  status: string;
  amount: number;
  amount_captured: number;
  amount_refunded: number;
}

async function simCharges(sim: FastifyInstance): Promise<ChargeView[]> {
  const charges: ChargeView[] = [];
  for (const provider of ['stripe', 'paypal']) {
    const response = await sim.inject({
      method: 'GET',
      url: `/admin/charges?provider=${provider}&limit=${chargesPerProviderLimit}`,
    });
    const data = response.json<{ data: ChargeView[] }>().data;
    // A full page could hide charges: the verdict would be blind to them.
    if (data.length >= chargesPerProviderLimit)
      throw new Error(`more than ${chargesPerProviderLimit} ${provider} charges`);
    charges.push(...data);
  }
  return charges;
}

/** The payment a charge was made for; a charge without one stands alone under its own id. */
const chargeOwner = (charge: ChargeView): string => charge.payment_id ?? `(no payment) ${charge.id}`;

async function ours(prisma: PrismaClient): Promise<Map<string, OursFact & { payer: string }>> {
  const payments = await prisma.payment.findMany({ include: { refunds: true } });
  return new Map(
    payments.map((payment) => [
      payment.id,
      {
        status: payment.status,
        source: payment.sourceType === 'wallet' ? 'wallet' : 'card',
        amount: payment.amount,
        captured: payment.amountCaptured,
        refunded: payment.amountRefunded,
        refunds: payment.refunds.map((refund) => ({ id: refund.id, status: refund.status, amount: refund.amount })),
        payer: payment.walletAccountId ?? systemAccountId('provider_clearing', payment.currency),
      },
    ]),
  );
}

interface PostingRow {
  payment_id: string;
  transaction_id: string;
  kind: string;
  reference: string | null;
  account_id: string;
  amount: bigint;
}

/** Each payment's capture and refund postings, as seen from its payer's account. */
async function ledgers(prisma: PrismaClient, payers: Map<string, string>): Promise<Map<string, LedgerFact>> {
  const rows = await prisma.$queryRaw<PostingRow[]>`
    SELECT t.metadata->>'payment_id' AS payment_id, t.id AS transaction_id, t.kind, t.reference,
           e.account_id, e.amount
      FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
     WHERE t.kind IN ('payment_capture', 'refund') AND t.metadata ? 'payment_id'`;
  const facts = new Map<string, LedgerFact>();
  const counted = new Set<string>();
  for (const row of rows) {
    const fact = facts.get(row.payment_id) ?? noLedger();
    facts.set(row.payment_id, fact);
    if (!counted.has(row.transaction_id)) {
      counted.add(row.transaction_id);
      if (row.kind === 'payment_capture') fact.captureTransactions += 1;
      else {
        const refundId = row.reference ?? row.transaction_id;
        fact.refundTransactions[refundId] = (fact.refundTransactions[refundId] ?? 0) + 1;
      }
    }
    if (row.account_id !== payers.get(row.payment_id)) continue;
    if (row.kind === 'payment_capture') fact.captured -= row.amount;
    else fact.refunded += row.amount;
  }
  return facts;
}

async function holds(prisma: PrismaClient): Promise<Map<string, HoldFact>> {
  const rows = await prisma.hold.findMany({ where: { reference: { startsWith: 'pay_' } } });
  return new Map(
    rows.map((hold) => [hold.reference, { status: hold.status, amount: hold.amount, captured: hold.capturedAmount }]),
  );
}

export async function observePayments(
  prisma: PrismaClient,
  sim: FastifyInstance,
  runs: PaymentRun[],
): Promise<PaymentFacts[]> {
  const [charges, ourPayments, walletHolds] = await Promise.all([simCharges(sim), ours(prisma), holds(prisma)]);
  const payers = new Map([...ourPayments].map(([id, payment]) => [id, payment.payer]));
  const ledger = await ledgers(prisma, payers);
  const clients = new Map(runs.flatMap((run) => run.fact.paymentIds.map((id) => [id, run.fact] as const)));
  const ids = new Set<string>([
    ...ourPayments.keys(),
    ...clients.keys(),
    ...ledger.keys(),
    ...charges.map(chargeOwner),
  ]);
  return [...ids].map((paymentId) => {
    const mine = ourPayments.get(paymentId);
    const hold = walletHolds.get(paymentId);
    const client = clients.get(paymentId);
    return {
      paymentId,
      ...(client ? { client } : {}),
      ...(mine ? { ours: mine } : {}),
      ...(hold ? { hold } : {}),
      charges: charges
        .filter((charge) => chargeOwner(charge) === paymentId)
        .map((charge): ChargeFact => ({
          provider: charge.provider,
          status: charge.status,
          amount: BigInt(charge.amount),
          captured: BigInt(charge.amount_captured),
          refunded: BigInt(charge.amount_refunded),
        })),
      ledger: ledger.get(paymentId) ?? noLedger(),
    };
  });
}

export async function observeBooks(prisma: PrismaClient): Promise<BooksFact> {
  const discrepancies = await reconcile(prisma);
  const [sum] = await prisma.$queryRaw<{ total: bigint }[]>`
    SELECT coalesce(sum(amount), 0)::bigint AS total FROM ledger_entries`;
  return {
    discrepancies: discrepancies.map((row) =>
      JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)),
    ),
    entriesSum: sum?.total ?? 0n,
  };
}
