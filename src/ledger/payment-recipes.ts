import {
  merchantAccountId,
  systemAccountId,
  type MerchantBalanceType,
  type Posting,
  type PostInput,
  type SystemAccountType,
} from './ledger.ts';

// Which accounts move, and by how much, for each money step of a payment. Pure: the recipe
// names the accounts and the entries; src/payments/payment-books.ts ensures the accounts and
// posts it. Keys are `<payment id>:<step>:ledger`, so a retried step never posts twice.
//
//   capture     payer (provider_clearing, or the wallet's held account) −amount
//               merchant_pending +(amount − fee), platform_fees +fee
//   refund      merchant (pending before settlement, available after) −(amount − feeBack)
//               platform_fees −feeBack, payer +amount
//   dispute     merchant −amount, disputes +amount
//   settlement  merchant_pending −net, merchant_available +net

export interface PaymentParty {
  paymentId: string;
  merchantId: string;
  currency: string;
  /** The customer account of a wallet payment; card payments are paid by provider clearing. */
  walletAccountId: string | null;
}

/** An account a recipe touches, to be made on first use. */
export type RecipeAccount =
  | { kind: 'system'; type: SystemAccountType; currency: string }
  | { kind: 'merchant'; type: MerchantBalanceType; merchantId: string; currency: string };

export interface Recipe {
  posting: PostInput;
  accounts: RecipeAccount[];
}

const system = (type: SystemAccountType, currency: string): RecipeAccount => ({ kind: 'system', type, currency });

function merchant(party: PaymentParty, type: MerchantBalanceType): RecipeAccount {
  return { kind: 'merchant', type, merchantId: party.merchantId, currency: party.currency };
}

export function accountIdOf(account: RecipeAccount): string {
  return account.kind === 'system'
    ? systemAccountId(account.type, account.currency)
    : merchantAccountId(account.type, account.merchantId, account.currency);
}

/** Drops zero legs (a zero fee, a refund whose fee share is all of it): the ledger refuses them. */
function legs(...postings: Posting[]): Posting[] {
  return postings.filter((posting) => posting.amount !== 0n);
}

function payer(party: PaymentParty): { id: string; accounts: RecipeAccount[] } {
  if (party.walletAccountId) return { id: party.walletAccountId, accounts: [] };
  const clearing = system('provider_clearing', party.currency);
  return { id: accountIdOf(clearing), accounts: [clearing] };
}

export function captureRecipe(party: PaymentParty, amount: bigint, fee: bigint): Recipe {
  const pending = merchant(party, 'merchant_pending');
  const fees = system('platform_fees', party.currency);
  const from = payer(party);
  return {
    accounts: [pending, fees, ...from.accounts],
    posting: {
      kind: 'payment_capture',
      reference: party.paymentId,
      idempotencyKey: `${party.paymentId}:capture:ledger`,
      metadata: { payment_id: party.paymentId },
      entries: legs(
        { accountId: from.id, amount: -amount },
        { accountId: accountIdOf(pending), amount: amount - fee },
        { accountId: accountIdOf(fees), amount: fee },
      ),
    },
  };
}

export interface RefundLegs {
  refundId: string;
  amount: bigint;
  feeBack: bigint;
  /** Before settlement the money is still pending. */
  fromPending: boolean;
}

export function refundRecipe(party: PaymentParty, refund: RefundLegs): Recipe {
  const owner = merchant(party, refund.fromPending ? 'merchant_pending' : 'merchant_available');
  const fees = system('platform_fees', party.currency);
  const to = payer(party);
  return {
    accounts: [owner, fees, ...to.accounts],
    posting: {
      kind: 'refund',
      reference: refund.refundId,
      idempotencyKey: `${party.paymentId}:refund:${refund.refundId}:ledger`,
      metadata: { payment_id: party.paymentId },
      entries: legs(
        { accountId: accountIdOf(owner), amount: -(refund.amount - refund.feeBack) },
        { accountId: accountIdOf(fees), amount: -refund.feeBack },
        { accountId: to.id, amount: refund.amount },
      ),
    },
  };
}

export function disputeRecipe(
  party: PaymentParty,
  dispute: { disputeId: string; amount: bigint; fromPending: boolean },
): Recipe {
  const owner = merchant(party, dispute.fromPending ? 'merchant_pending' : 'merchant_available');
  const disputes = system('disputes', party.currency);
  return {
    accounts: [owner, disputes],
    posting: {
      kind: 'dispute',
      reference: party.paymentId,
      idempotencyKey: `${party.paymentId}:dispute:${dispute.disputeId}:ledger`,
      metadata: { dispute_id: dispute.disputeId },
      entries: [
        { accountId: accountIdOf(owner), amount: -dispute.amount },
        { accountId: accountIdOf(disputes), amount: dispute.amount },
      ],
    },
  };
}

export function settlementRecipe(party: PaymentParty, amount: bigint): Recipe {
  const pending = merchant(party, 'merchant_pending');
  const available = merchant(party, 'merchant_available');
  return {
    accounts: [pending, available],
    posting: {
      kind: 'settlement',
      reference: party.paymentId,
      idempotencyKey: `${party.paymentId}:settle:ledger`,
      entries: [
        { accountId: accountIdOf(pending), amount: -amount },
        { accountId: accountIdOf(available), amount },
      ],
    },
  };
}
