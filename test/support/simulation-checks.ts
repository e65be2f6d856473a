import { isDeepStrictEqual } from 'node:util';
import { merchantAccountId, systemAccountId } from '../../src/ledger/ledger.ts';
import { foldedAndCurrentOf } from './payment-history.ts';
import { expectedOutcome, type ExpectedOutcome, type SimulationRules } from './simulation-model.ts';
import type { HistoryRun } from './simulation-runner.ts';
import { chargesOf } from './simulator-charges.ts';
import { bearer, type Stack } from './stack.ts';

// The money invariants of one finished history, against the model and against each other: what
// the payment shows, what the provider holds, what the ledger booked, and the payment's events
// folded again. Each broken one is a sentence; none is a clean history.

interface LedgerTransaction {
  kind: string;
  entries: { account_id: string; amount: number }[];
}

type Role = keyof ExpectedOutcome['ledger'];

export async function violationsOf(stack: Stack, run: HistoryRun, rules: SimulationRules): Promise<string[]> {
  const expected = expectedOutcome(run.model, rules);
  const auth = bearer(run.merchant.apiKey);
  const read = async <T>(url: string) => {
    const response = await stack.app.inject({ method: 'GET', url, headers: auth });
    if (response.statusCode !== 200) throw new Error(`GET ${url} answered ${response.statusCode}`);
    return response.json<T>();
  };
  const payment = await read<Record<string, unknown> & { refunds: { status: string }[] }>(
    `/v1/payments/${run.paymentId}`,
  );
  const ledger = await read<{ data: LedgerTransaction[] }>(`/v1/payments/${run.paymentId}/ledger`);
  return [
    ...paymentProblems(payment, expected),
    ...(await chargeProblems(stack, run, expected)),
    ...ledgerProblems(ledger.data, run, expected),
    ...(await foldProblems(stack, run)),
  ];
}

function paymentProblems(
  payment: Record<string, unknown> & { refunds: { status: string }[] },
  expected: ExpectedOutcome,
): string[] {
  const problems: string[] = [];
  for (const [field, value] of Object.entries(expected.payment)) {
    if (payment[field] !== value) problems.push(`payment ${field} is ${String(payment[field])}, expected ${value}`);
  }
  const [captured, refunded, amount] = [payment.amount_captured, payment.amount_refunded, payment.amount] as number[];
  if ((captured ?? 0) > (amount ?? 0)) problems.push(`captured ${captured} of an authorization of ${amount}`);
  if ((refunded ?? 0) > (captured ?? 0)) problems.push(`refunded ${refunded} of ${captured} captured`);
  const count = (status: string) => payment.refunds.filter((refund) => refund.status === status).length;
  const [least, most] = expected.refunds.succeeded;
  if (count('succeeded') < least || count('succeeded') > most) {
    problems.push(`${count('succeeded')} succeeded refunds, expected ${least} to ${most}`);
  }
  if (count('failed') !== expected.refunds.failed) {
    problems.push(`${count('failed')} failed refunds, expected ${expected.refunds.failed}`);
  }
  if (count('pending') > 0) problems.push(`${count('pending')} refunds still pending`);
  return problems;
}

async function chargeProblems(stack: Stack, run: HistoryRun, expected: ExpectedOutcome): Promise<string[]> {
  const charges = await chargesOf(stack.sim, run.paymentId);
  if (expected.charge === null)
    return charges.length === 0 ? [] : [`${charges.length} charges at the provider, expected none`];
  if (charges.length !== 1) return [`${charges.length} charges at the provider, expected one`];
  const [charge] = charges;
  const actual = {
    provider: charge?.provider,
    status: charge?.status,
    amount: charge?.amount,
    amount_captured: charge?.amount_captured,
    amount_refunded: charge?.amount_refunded,
    disputed: charge?.disputes.reduce((total, dispute) => total + dispute.amount, 0),
  };
  return isDeepStrictEqual(actual, expected.charge)
    ? []
    : [`the provider's charge is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected.charge)}`];
}

function ledgerProblems(transactions: LedgerTransaction[], run: HistoryRun, expected: ExpectedOutcome): string[] {
  const { currency } = run.model;
  const roles = new Map<string, Role>([
    [systemAccountId('provider_clearing', currency), 'clearing'],
    [systemAccountId('platform_fees', currency), 'fees'],
    [systemAccountId('disputes', currency), 'disputes'],
    [merchantAccountId('merchant_pending', run.merchant.id, currency), 'pending'],
    [merchantAccountId('merchant_available', run.merchant.id, currency), 'available'],
  ]);
  const problems: string[] = [];
  const sums: Record<Role, bigint> = { clearing: 0n, fees: 0n, pending: 0n, available: 0n, disputes: 0n };
  for (const transaction of transactions) {
    let balance = 0n;
    for (const entry of transaction.entries) {
      const role = roles.get(entry.account_id);
      balance += BigInt(entry.amount);
      if (role) sums[role] += BigInt(entry.amount);
      else problems.push(`a ${transaction.kind} entry on account ${entry.account_id}`);
    }
    if (balance !== 0n) problems.push(`a ${transaction.kind} transaction does not balance (${balance})`);
  }
  for (const role of Object.keys(sums) as Role[]) {
    if (sums[role] !== expected.ledger[role])
      problems.push(`ledger ${role} is ${sums[role]}, expected ${expected.ledger[role]}`);
  }
  for (const [kind, [least, most]] of Object.entries(expected.transactions)) {
    const count = transactions.filter((transaction) => transaction.kind === kind).length;
    if (count < least || count > most) problems.push(`${count} ${kind} transactions, expected ${least} to ${most}`);
  }
  const known = new Set(Object.keys(expected.transactions));
  for (const transaction of transactions) {
    if (!known.has(transaction.kind)) problems.push(`an unexpected ${transaction.kind} transaction`);
  }
  return problems;
}

/** The payment's events folded from the start are its read model (src/domain/payment-history.ts). */
async function foldProblems(stack: Stack, run: HistoryRun): Promise<string[]> {
  const history = await foldedAndCurrentOf(stack.prisma, run.paymentId);
  return isDeepStrictEqual(history.folded, history.current)
    ? []
    : [`folded events ${JSON.stringify(history.folded)} differ from the read model ${JSON.stringify(history.current)}`];
}
