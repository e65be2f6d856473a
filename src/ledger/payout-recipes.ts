import { accountIdOf, type Recipe, type RecipeAccount } from './payment-recipes.ts';

// Which accounts move, and by how much, at each money step of a payout. Pure: the activities
// (activities/payouts.ts) ensure the accounts and post. Keys are `<payout id>:<step>:ledger`,
// so a retried step never posts twice. Before the provider accepts, the amount is only held
// on the merchant's available balance (a ledger hold, reference = payout id).
//
//   in transit  merchant_available −amount (its hold captured), payouts_in_transit +amount
//   paid        payouts_in_transit −amount, external_payouts +amount
//   reversal    payouts_in_transit −amount, merchant_available +amount (the bank returned it)

export interface PayoutParty {
  payoutId: string;
  merchantId: string;
  currency: string;
  amount: bigint;
}

const available = (party: PayoutParty): RecipeAccount => ({
  kind: 'merchant',
  type: 'merchant_available',
  merchantId: party.merchantId,
  currency: party.currency,
});
const inTransit = (party: PayoutParty): RecipeAccount => ({
  kind: 'system',
  type: 'payouts_in_transit',
  currency: party.currency,
});
const paidOut = (party: PayoutParty): RecipeAccount => ({
  kind: 'system',
  type: 'external_payouts',
  currency: party.currency,
});

function move(party: PayoutParty, step: string, kind: string, from: RecipeAccount, to: RecipeAccount): Recipe {
  return {
    accounts: [from, to],
    posting: {
      kind,
      reference: party.payoutId,
      idempotencyKey: `${party.payoutId}:${step}:ledger`,
      metadata: { payout_id: party.payoutId },
      entries: [
        { accountId: accountIdOf(from), amount: -party.amount },
        { accountId: accountIdOf(to), amount: party.amount },
      ],
    },
  };
}

/** The provider accepted the payout: its hold on the available balance becomes money in transit. */
export function payoutInTransitRecipe(party: PayoutParty): Recipe {
  return move(party, 'in_transit', 'payout', available(party), inTransit(party));
}

/** The bank paid it: the money has left the platform. */
export function payoutPaidRecipe(party: PayoutParty): Recipe {
  return move(party, 'paid', 'payout_paid', inTransit(party), paidOut(party));
}

/** The bank returned it: back to the merchant's available balance. */
export function payoutReversalRecipe(party: PayoutParty): Recipe {
  return move(party, 'reversal', 'payout_reversal', inTransit(party), available(party));
}
