import type { Db, PrismaClient } from '../db/prisma.ts';
import { PaymentsError } from '../domain/errors.ts';
import { payoutFailureMessage, type PayoutInput, type PayoutView } from '../domain/payout-view.ts';
import { payoutPredecessors, type PayoutStatus } from '../domain/payout-state.ts';
import { payoutHoldExpiryMs } from '../domain/payout-settings.ts';
import { appendEvent } from '../events/outbox.ts';
import type { ColumnCipher } from '../crypto/column-cipher.ts';
import {
  captureHold,
  ensureMerchantAccount,
  merchantAccountId,
  placeHold,
  post,
  releaseHold,
} from '../ledger/ledger.ts';
import { ensureAccounts } from '../payments/payment-books.ts';
import {
  payoutInTransitRecipe,
  payoutPaidRecipe,
  payoutReversalRecipe,
  type PayoutParty,
} from '../ledger/payout-recipes.ts';
import { presentPayout } from './public-payout.ts';
import { openPayoutDescription, sealPayoutDescription } from './payout-description.ts';

// A payout's read model (`payouts`), its ledger movements and its events, each step one
// database transaction: the row, the money and the outbox event commit together. Every step
// is idempotent: rows are written once by id, statuses move only forward (payout-state.ts),
// ledger postings are keyed (payout-recipes.ts) and events by `payout:<id>:<status>`.
// The row's description is stored encrypted (payout-description.ts): rows are opened as they are
// read, so views and events carry the plaintext.

const transactionOptions = { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 } as const;

type PayoutRow = Awaited<ReturnType<PrismaClient['payout']['findUniqueOrThrow']>>;

export function payoutView(row: PayoutRow): PayoutView {
  return {
    id: row.id,
    merchantId: row.merchantId,
    amount: row.amount,
    currency: row.currency,
    status: row.status as PayoutStatus,
    automatic: row.automatic,
    description: row.description,
    provider: row.provider,
    providerPayoutId: row.providerPayoutId,
    failureCode: row.failureCode,
    failureMessage: row.failureMessage,
    createdAt: row.createdAt.toISOString(),
  };
}

/** payout.created when it is held, payout.paid, payout.failed: once each per payout. */
function announce(
  db: Db,
  cipher: ColumnCipher,
  row: PayoutRow,
  type: 'payout.created' | 'payout.paid' | 'payout.failed',
) {
  return appendEvent(db, cipher, {
    merchantId: row.merchantId,
    type,
    resourceId: row.id,
    data: presentPayout(row),
    sourceKey: `payout:${row.id}:${type}`,
  });
}

function newRow(cipher: ColumnCipher, input: PayoutInput, status: PayoutStatus, failureCode: string | null = null) {
  return {
    id: input.payoutId,
    merchantId: input.merchantId,
    amount: input.amount,
    currency: input.currency,
    status,
    automatic: input.automatic,
    description: sealPayoutDescription(cipher, input.description),
    provider: input.provider,
    failureCode,
    failureMessage: failureCode === null ? null : payoutFailureMessage(failureCode),
  };
}

export const partyOf = (payout: { id: string; merchantId: string; currency: string; amount: bigint }): PayoutParty => ({
  payoutId: payout.id,
  merchantId: payout.merchantId,
  currency: payout.currency,
  amount: payout.amount,
});

/**
 * Records the payout as pending and holds its amount on the merchant's available balance, in
 * one transaction, announcing payout.created. The hold is the guarantee: placed under the
 * account's lock, it never exceeds what concurrent refunds and transfers leave available.
 * When it does not fit any more, the payout is recorded failed (insufficient_funds) and
 * announced by payout.failed alone; nothing is held. A retry finds the row and changes nothing.
 */
export async function openPayout(prisma: PrismaClient, cipher: ColumnCipher, input: PayoutInput): Promise<PayoutView> {
  const accountId = await ensureMerchantAccount(prisma, 'merchant_available', input.merchantId, input.currency);
  const expiresAt = new Date(Date.now() + payoutHoldExpiryMs(input.timing));
  try {
    return await prisma.$transaction(async (tx) => {
      await tx.payout.createMany({ data: [newRow(cipher, input, 'pending')], skipDuplicates: true });
      const row = await loadPayout(tx, cipher, input.payoutId);
      if (row.status !== 'pending') return payoutView(row);
      await placeHold(tx, { accountId, amount: input.amount, reference: input.payoutId, expiresAt });
      await announce(tx, cipher, row, 'payout.created');
      return payoutView(row);
    }, transactionOptions);
  } catch (error) {
    if (!(error instanceof PaymentsError && error.code === 'insufficient_funds')) throw error;
  }
  return prisma.$transaction(async (tx) => {
    await tx.payout.createMany({
      data: [newRow(cipher, input, 'failed', 'insufficient_funds')],
      skipDuplicates: true,
    });
    const row = await loadPayout(tx, cipher, input.payoutId);
    if (row.status === 'failed') await announce(tx, cipher, row, 'payout.failed');
    return payoutView(row);
  }, transactionOptions);
}

/**
 * Compensation: gives the held amount back to available. Idempotent, and a no-op when nothing
 * is held any more: no hold was placed, the in-transit posting captured it, or the sweep
 * expired it.
 */
export async function releasePayoutHold(prisma: PrismaClient, payoutId: string): Promise<void> {
  try {
    await releaseHold(prisma, payoutId);
  } catch (error) {
    if (error instanceof PaymentsError && ['hold_unexpected_state', 'resource_missing'].includes(error.code)) return;
    throw error;
  }
}

/** The row, its description readable. */
async function loadPayout(db: Db, cipher: ColumnCipher, payoutId: string): Promise<PayoutRow> {
  const row = await db.payout.findUnique({ where: { id: payoutId } });
  if (!row) throw new Error(`payout ${payoutId} has no row`);
  return openPayoutDescription(cipher, row);
}

/**
 * The provider accepted the payout: its hold becomes money in payouts_in_transit (one ledger
 * transaction capturing the hold) and the row names the provider's payout, atomically.
 */
export async function markPayoutInTransit(
  prisma: PrismaClient,
  cipher: ColumnCipher,
  input: { payoutId: string; providerPayoutId: string },
): Promise<PayoutView> {
  const payout = await loadPayout(prisma, cipher, input.payoutId);
  const recipe = payoutInTransitRecipe(partyOf(payout));
  await ensureAccounts(prisma, recipe.accounts);
  const row = await prisma.$transaction(async (tx) => {
    await captureHold(tx, input.payoutId, payout.amount, recipe.posting);
    await tx.payout.updateMany({
      where: { id: input.payoutId, status: { in: payoutPredecessors('in_transit') } },
      data: { status: 'in_transit', providerPayoutId: input.providerPayoutId, updatedAt: new Date() },
    });
    return loadPayout(tx, cipher, input.payoutId);
  }, transactionOptions);
  return payoutView(row);
}

/** The bank paid it: payouts_in_transit → external_payouts, the row paid, payout.paid. */
export async function markPayoutPaid(
  prisma: PrismaClient,
  cipher: ColumnCipher,
  payoutId: string,
): Promise<PayoutView> {
  const payout = await loadPayout(prisma, cipher, payoutId);
  const recipe = payoutPaidRecipe(partyOf(payout));
  await ensureAccounts(prisma, recipe.accounts);
  const row = await prisma.$transaction(async (tx) => {
    await post(tx, recipe.posting);
    const { count } = await tx.payout.updateMany({
      where: { id: payoutId, status: { in: payoutPredecessors('paid') } },
      data: { status: 'paid', updatedAt: new Date() },
    });
    const paid = await loadPayout(tx, cipher, payoutId);
    if (count === 1) await announce(tx, cipher, paid, 'payout.paid');
    return paid;
  }, transactionOptions);
  return payoutView(row);
}

/** Compensation of the in-transit posting: the bank returned the money to available. */
export async function reversePayout(prisma: PrismaClient, cipher: ColumnCipher, payoutId: string): Promise<void> {
  const payout = await loadPayout(prisma, cipher, payoutId);
  const recipe = payoutReversalRecipe(partyOf(payout));
  await ensureAccounts(prisma, recipe.accounts);
  await post(prisma, recipe.posting);
}

/**
 * Records why the payout failed, after its compensations ran, announcing payout.failed once.
 * A payout already paid stays paid: that money has left.
 */
export async function failPayout(
  prisma: PrismaClient,
  cipher: ColumnCipher,
  input: { payoutId: string; failureCode: string },
): Promise<PayoutView> {
  const row = await prisma.$transaction(async (tx) => {
    const { count } = await tx.payout.updateMany({
      where: { id: input.payoutId, status: { in: payoutPredecessors('failed') } },
      data: {
        status: 'failed',
        failureCode: input.failureCode,
        failureMessage: payoutFailureMessage(input.failureCode),
        updatedAt: new Date(),
      },
    });
    const failed = await loadPayout(tx, cipher, input.payoutId);
    if (count === 1) await announce(tx, cipher, failed, 'payout.failed');
    return failed;
  }, transactionOptions);
  return payoutView(row);
}

/** The merchant's available balance in a currency (0 when it has no such account yet). */
export async function availableBalance(db: Db, merchantId: string, currency: string): Promise<bigint> {
  const account = await db.account.findUnique({
    where: { id: merchantAccountId('merchant_available', merchantId, currency) },
    select: { balance: true, held: true },
  });
  return account ? account.balance - account.held : 0n;
}
