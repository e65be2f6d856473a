import { createHash } from 'node:crypto';
import { Prisma, type Db } from '../db/prisma.ts';
import { PaymentsError } from '../domain/errors.ts';
import { newId } from '../ids.ts';
import { ledgerLockRetries, ledgerPostings } from '../observability/metrics.ts';

// The one way money moves. Every operation is a single PostgreSQL transaction that locks the
// touched account rows in id order, is idempotent by its key, and leaves balanced entries.
// Sign convention: an entry's amount is added to its account's balance; positive credits
// the account, negative debits it. A transaction's entries sum to zero per currency.
// System accounts that stand for money outside the platform (external_funding,
// provider_clearing) may go negative.

export type AccountType = 'customer' | 'merchant' | MerchantBalanceType | SystemAccountType;
/** Where a merchant's payment proceeds wait for settlement, then become available. */
export type MerchantBalanceType = 'merchant_pending' | 'merchant_available';
export type SystemAccountType =
  | 'external_funding'
  | 'provider_clearing'
  | 'platform_fees'
  | 'merchant_payable'
  | 'disputes'
  /** Payouts the provider accepted and the bank has not paid yet (src/ledger/payout-recipes.ts). */
  | 'payouts_in_transit'
  /** The mirror of everything paid out to merchants' banks: money that left the platform. */
  | 'external_payouts';

const negativeAllowed: ReadonlySet<AccountType> = new Set(['external_funding', 'provider_clearing']);

export interface Posting {
  accountId: string;
  /** Signed minor units: positive credits the account, negative debits it. */
  amount: bigint;
}

export interface PostInput {
  kind: string;
  reference?: string | undefined;
  idempotencyKey: string;
  metadata?: Prisma.InputJsonValue | undefined;
  entries: Posting[];
}

export interface PostResult {
  transactionId: string;
  /** True when the key was seen before: nothing was written this time. */
  replayed: boolean;
}

const maxEntriesPerTransaction = 16;
const maxLockRetries = 5;

/**
 * A ledger transaction id derived from its idempotency key: a step that must know its
 * transaction's id before posting (to write it beside the posting in the same statement) gets
 * the same id on every retry.
 */
export function transactionIdFor(idempotencyKey: string): string {
  return `txn_${createHash('sha256').update(idempotencyKey).digest('base64url').slice(0, 22)}`;
}

export async function post(db: Db, input: PostInput): Promise<PostResult> {
  assertPostable(input);
  const transactionId = newId('txn');
  const entryIds = input.entries.map(() => newId('ent'));
  const accountIds = input.entries.map((entry) => entry.accountId);
  const amounts = input.entries.map((entry) => entry.amount);
  const metadata = input.metadata === undefined ? null : JSON.stringify(input.metadata);
  const rows = await withLockRetry(
    () =>
      db.$queryRaw<{ transaction_id: string; replayed: boolean }[]>`
      SELECT transaction_id, replayed FROM ledger_post(
        ${transactionId}, ${input.kind}, ${input.reference ?? null}, ${input.idempotencyKey},
        ${metadata}::jsonb, ${entryIds}::text[], ${accountIds}::text[], ${amounts}::bigint[])`,
  );
  const row = rows[0];
  if (!row) throw new Error('ledger_post returned no row');
  ledgerPostings.inc({ kind: input.kind, replayed: String(row.replayed) });
  return { transactionId: row.transaction_id, replayed: row.replayed };
}

/**
 * The invariants every posting keeps. Postings are built by our own code (recipes, deposits,
 * transfers) from validated amounts, so a violation is a bug: it fails loudly as an Error,
 * never as a client error.
 */
export function assertPostable(input: PostInput): void {
  if (input.entries.length < 2 || input.entries.length > maxEntriesPerTransaction) {
    throw new Error(`a ledger transaction has 2 to ${maxEntriesPerTransaction} entries, got ${input.entries.length}`);
  }
  if (input.entries.some((entry) => entry.amount === 0n)) throw new Error('ledger entries cannot be zero');
  const sum = input.entries.reduce((total, entry) => total + entry.amount, 0n);
  if (sum !== 0n) throw new Error(`ledger entries must sum to zero, got ${sum}`);
  if (input.idempotencyKey.length === 0) throw new Error('a ledger transaction needs an idempotency key');
}

/**
 * Maps the errors raised by our SQL functions to typed errors and retries lock conflicts
 * (deadlock 40P01, serialization 40001) a bounded number of times with jitter.
 */
export async function withLockRetry<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const typed = ledgerError(error);
      if (typed) throw typed;
      if (attempt < maxLockRetries && isLockConflict(error)) {
        ledgerLockRetries.inc();
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
        continue;
      }
      throw error;
    }
  }
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return `${error.message} ${JSON.stringify((error as { meta?: unknown }).meta ?? '')} ${cause ? errorText(cause) : ''}`;
}

function isLockConflict(error: unknown): boolean {
  const text = errorText(error);
  return (
    /40P01|40001|deadlock detected|could not serialize/.test(text) || (error as { code?: string }).code === 'P2034'
  );
}

function ledgerError(error: unknown): PaymentsError | undefined {
  const text = errorText(error);
  if (text.includes('insufficient_funds') || text.includes('accounts_available_check')) {
    return new PaymentsError('insufficient_funds', 'The account does not have enough available funds.');
  }
  if (text.includes('account_not_found')) return new PaymentsError('resource_missing', 'No such account.');
  if (text.includes('hold_not_found')) return new PaymentsError('resource_missing', 'No such hold.');
  if (text.includes('hold_not_active')) {
    return new PaymentsError('hold_unexpected_state', 'The hold is no longer active.');
  }
  if (text.includes('hold_reference_conflict')) {
    return new PaymentsError('hold_unexpected_state', 'A different hold already exists for this reference.');
  }
  if (text.includes('accounts_balance_range_check')) {
    return new PaymentsError(
      'amount_too_large',
      'The balance would exceed the largest amount this API represents (9007199254740991).',
      'amount',
    );
  }
  if (text.includes('amount_too_large')) {
    return new PaymentsError('amount_too_large', 'The amount is larger than the hold.', 'amount');
  }
  // invalid_posting (malformed entry arrays) is a bug of ours: it stays an Error.
  if (text.includes('currency_mismatch')) {
    return new PaymentsError('currency_mismatch', 'Entries must be in the currency of their account.');
  }
  return undefined;
}

export interface NewAccount {
  merchantId: string | null;
  type: AccountType;
  currency: string;
  reference?: string | undefined;
  /** Unique per merchant: staged and webhook payment records find the account by it. */
  externalReference?: string | undefined;
  /** The merchant's notes as stored: encrypted (sealAccountNotes, src/accounts/account-notes.ts). */
  description?: string | null | undefined;
  /** The JSON string the jsonb column keeps. */
  metadata?: string | null | undefined;
}

export async function createAccount(db: Db, account: NewAccount) {
  return db.account.create({
    data: {
      id: newId('acct'),
      merchantId: account.merchantId,
      type: account.type,
      currency: account.currency,
      reference: account.reference ?? null,
      externalReference: account.externalReference ?? null,
      description: account.description ?? null,
      metadata: account.metadata ?? undefined,
      allowNegative: negativeAllowed.has(account.type),
    },
  });
}

export function systemAccountId(type: SystemAccountType, currency: string): string {
  return `acct_sys_${type}_${currency.toLowerCase()}`;
}

const ensuredAccounts = new Set<string>();

async function ensureAccount(
  db: Db,
  account: { id: string; merchantId: string | null; type: AccountType; currency: string },
): Promise<string> {
  if (ensuredAccounts.has(account.id)) return account.id;
  await db.account.createMany({
    data: [{ ...account, allowNegative: negativeAllowed.has(account.type) }],
    skipDuplicates: true,
  });
  ensuredAccounts.add(account.id);
  return account.id;
}

/** Platform-wide accounts exist once per currency; made on first use, ids derived. */
export function ensureSystemAccount(db: Db, type: SystemAccountType, currency: string): Promise<string> {
  return ensureAccount(db, { id: systemAccountId(type, currency), merchantId: null, type, currency });
}

export function merchantAccountId(type: MerchantBalanceType, merchantId: string, currency: string): string {
  return `acct_${type === 'merchant_pending' ? 'pending' : 'available'}_${merchantId}_${currency.toLowerCase()}`;
}

/** A merchant's pending or available balance in a currency; made on first use. */
export function ensureMerchantAccount(
  db: Db,
  type: MerchantBalanceType,
  merchantId: string,
  currency: string,
): Promise<string> {
  return ensureAccount(db, { id: merchantAccountId(type, merchantId, currency), merchantId, type, currency });
}

export interface PlaceHoldInput {
  accountId: string;
  amount: bigint;
  /** One hold per reference (payment or transfer id): placing it again returns the first. */
  reference: string;
  expiresAt?: Date | undefined;
}

export async function placeHold(db: Db, input: PlaceHoldInput): Promise<{ holdId: string; replayed: boolean }> {
  if (input.amount <= 0n) throw new PaymentsError('parameter_invalid', 'A hold amount must be positive.', 'amount');
  const rows = await withLockRetry(
    () => db.$queryRaw<{ hold_id: string; replayed: boolean }[]>`
      SELECT hold_id, replayed FROM ledger_place_hold(
        ${newId('hold')}, ${input.accountId}, ${input.amount}::bigint, ${input.reference}, ${input.expiresAt ?? null}::timestamptz)`,
  );
  const row = single(rows, 'ledger_place_hold');
  return { holdId: row.hold_id, replayed: row.replayed };
}

/** Ends an active hold ('released' by us, 'expired' by its timer); idempotent. */
export async function releaseHold(
  db: Db,
  reference: string,
  status: 'released' | 'expired' = 'released',
): Promise<{ holdId: string; replayed: boolean }> {
  const rows = await withLockRetry(
    () => db.$queryRaw<{ hold_id: string; replayed: boolean }[]>`
      SELECT hold_id, replayed FROM ledger_release_hold(${reference}, ${status})`,
  );
  const row = single(rows, 'ledger_release_hold');
  return { holdId: row.hold_id, replayed: row.replayed };
}

/**
 * Captures `amount` of the hold with `reference` and posts `entries` atomically; the
 * uncaptured rest returns to available. The entries must debit the held account by `amount`.
 */
export async function captureHold(
  db: Db,
  reference: string,
  amount: bigint,
  posting: Omit<PostInput, 'reference'>,
): Promise<PostResult> {
  assertPostable({ ...posting, reference });
  const entryIds = posting.entries.map(() => newId('ent'));
  const accountIds = posting.entries.map((entry) => entry.accountId);
  const amounts = posting.entries.map((entry) => entry.amount);
  const metadata = posting.metadata === undefined ? null : JSON.stringify(posting.metadata);
  const rows = await withLockRetry(
    () => db.$queryRaw<{ transaction_id: string; replayed: boolean }[]>`
      SELECT transaction_id, replayed FROM ledger_capture_hold(
        ${reference}, ${amount}::bigint, ${newId('txn')}, ${posting.kind}, ${posting.idempotencyKey},
        ${metadata}::jsonb, ${entryIds}::text[], ${accountIds}::text[], ${amounts}::bigint[])`,
  );
  const row = single(rows, 'ledger_capture_hold');
  return { transactionId: row.transaction_id, replayed: row.replayed };
}

function single<T>(rows: T[], source: string): T {
  const row = rows[0];
  if (rows.length !== 1 || !row) throw new Error(`${source} returned ${rows.length} rows`);
  return row;
}

/**
 * The account's balance now, or as of `at`: the balance_after of its last entry applied at
 * or before that instant (0 before its first entry).
 */
export async function balance(db: Db, accountId: string, options: { at?: Date } = {}): Promise<bigint> {
  if (!options.at) {
    const account = await db.account.findUnique({ where: { id: accountId }, select: { balance: true } });
    if (!account) throw new PaymentsError('resource_missing', 'No such account.', 'id');
    return account.balance;
  }
  const last = await db.ledgerEntry.findFirst({
    // API times have millisecond precision, entries microsecond: `at` covers its whole millisecond.
    where: { accountId, createdAt: { lt: new Date(options.at.getTime() + 1) } },
    orderBy: { sequence: 'desc' },
    select: { balanceAfter: true },
  });
  return last?.balanceAfter ?? 0n;
}

export const maxEntriesPageSize = 100;

/** Entries of an account, newest first, `limit` at a time after the entry `startingAfter`. */
export async function entries(db: Db, accountId: string, page: { limit: number; startingAfter?: string | undefined }) {
  const limit = Math.min(Math.max(page.limit, 1), maxEntriesPageSize);
  let before: bigint | undefined;
  if (page.startingAfter) {
    const cursor = await db.ledgerEntry.findFirst({
      where: { id: page.startingAfter, accountId },
      select: { sequence: true },
    });
    if (!cursor) throw new PaymentsError('resource_missing', 'No such entry for this account.', 'starting_after');
    before = cursor.sequence;
  }
  const rows = await db.ledgerEntry.findMany({
    where: { accountId, ...(before === undefined ? {} : { sequence: { lt: before } }) },
    orderBy: { sequence: 'desc' },
    take: limit + 1,
    include: { transaction: { select: { kind: true, reference: true } } },
  });
  return { data: rows.slice(0, limit), hasMore: rows.length > limit };
}
