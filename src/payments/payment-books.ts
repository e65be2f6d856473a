import type { Db } from '../db/prisma.ts';
import { captureHold, ensureMerchantAccount, ensureSystemAccount, post, releaseHold } from '../ledger/ledger.ts';
import {
  captureRecipe,
  disputeRecipe,
  refundRecipe,
  settlementRecipe,
  type PaymentParty,
  type Recipe,
  type RecipeAccount,
} from '../ledger/payment-recipes.ts';
import type { LedgerStep } from '../domain/ledger-step.ts';

// A payment transition's effect on the ledger (src/domain/ledger-step.ts), executed through the
// recipes inside the transition's database transaction.

export function recipeFor(party: PaymentParty, step: LedgerStep): Recipe | undefined {
  switch (step.kind) {
    case 'capture':
      return captureRecipe(party, step.amount, step.fee);
    case 'refund':
      return refundRecipe(party, step);
    case 'dispute':
      return disputeRecipe(party, step);
    case 'settlement':
      return settlementRecipe(party, step.amount);
    case 'release_hold':
      return undefined;
  }
}

/**
 * Makes the accounts a recipe needs. Called before the transition's transaction: the ensured
 * accounts are cached per process, and a cached account must never be one that a rolled-back
 * transaction created.
 */
export async function ensureAccounts(db: Db, accounts: RecipeAccount[]): Promise<void> {
  for (const account of accounts) {
    if (account.kind === 'system') await ensureSystemAccount(db, account.type, account.currency);
    else await ensureMerchantAccount(db, account.type, account.merchantId, account.currency);
  }
}

/** Posts the step; the ledger transaction's id, or null for a step that posts nothing. */
export async function applyLedgerStep(
  db: Db,
  party: PaymentParty,
  step: LedgerStep,
  recipe: Recipe | undefined,
): Promise<string | null> {
  if (step.kind === 'release_hold') {
    await releaseHold(db, party.paymentId, step.status);
    return null;
  }
  if (!recipe) throw new Error(`ledger step ${step.kind} has no recipe`);
  // A wallet capture turns its hold into the posting; the uncaptured rest becomes available.
  const { reference, ...posting } = recipe.posting;
  const result =
    step.kind === 'capture' && party.walletAccountId
      ? await captureHold(db, party.paymentId, step.amount, posting)
      : await post(db, { ...posting, reference });
  return result.transactionId;
}
