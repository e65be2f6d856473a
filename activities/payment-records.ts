import type { PrismaClient } from '../src/db/prisma.ts';
import { placeHold, withLockRetry } from '../src/ledger/ledger.ts';
import type { PaymentParty } from '../src/ledger/payment-recipes.ts';
import type { LedgerStep } from '../src/domain/ledger-step.ts';
import { applyLedgerStep, ensureAccounts, recipeFor } from '../src/payments/payment-books.ts';
import { announce, writeEvent, writeRefund, writeSnapshot } from '../src/payments/read-model.ts';
import { riskFacts, type RiskFacts } from '../src/payments/risk-facts.ts';
import type { PaymentEventRecord, PaymentView, RefundView } from '../src/domain/payment-view.ts';

// The database steps of the payment workflow, run as local activities. Each transition is one
// PostgreSQL transaction: the read-model snapshot, its numbered event, the ledger posting and
// the outbox event commit together or not at all, and every write is keyed, so a retried
// step changes nothing twice.

const transactionOptions = { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 } as const;

export interface TransitionRecord {
  view: PaymentView;
  event: PaymentEventRecord;
  /** The refund this transition creates; its ledger transaction id is filled in here. */
  refund?: RefundView | undefined;
  ledger?: LedgerStep | undefined;
}

export function partyOf(view: PaymentView): PaymentParty {
  return {
    paymentId: view.id,
    merchantId: view.merchantId,
    currency: view.currency,
    walletAccountId: view.walletAccountId,
  };
}

/** The view as announced: a refund's ledger transaction is known only once it is posted. */
function withRefund(view: PaymentView, refund: RefundView): PaymentView {
  return { ...view, refunds: view.refunds.map((known) => (known.id === refund.id ? refund : known)) };
}

export function createPaymentRecordActivities(prisma: PrismaClient) {
  return {
    /** Records the new payment (version 1) and returns the velocity facts for its risk check. */
    async openPayment(input: { view: PaymentView; event: PaymentEventRecord; windowMs: number }): Promise<RiskFacts> {
      const { view, event } = input;
      const [facts] = await Promise.all([
        riskFacts(prisma, {
          paymentId: view.id,
          customer: view.customer,
          cardFingerprint: view.cardFingerprint,
          windowMs: input.windowMs,
          at: new Date(view.createdAt),
        }),
        recordTransition(prisma, { view, event }),
      ]);
      return facts;
    },

    async recordTransition(record: TransitionRecord): Promise<{ transactionId: string | null }> {
      return recordTransition(prisma, record);
    },

    /** A wallet payment's authorization: a ledger hold on the customer's account. */
    async holdWallet(input: { paymentId: string; accountId: string; amount: bigint }): Promise<void> {
      await placeHold(prisma, { accountId: input.accountId, amount: input.amount, reference: input.paymentId });
    },
  };
}

async function recordTransition(
  prisma: PrismaClient,
  record: TransitionRecord,
): Promise<{ transactionId: string | null }> {
  const party = partyOf(record.view);
  const recipe = record.ledger ? recipeFor(party, record.ledger) : undefined;
  if (recipe) await ensureAccounts(prisma, recipe.accounts);
  // A deadlock aborts the whole transaction, so the whole transaction is what is retried.
  return withLockRetry(() =>
    prisma.$transaction(async (tx) => {
      await writeSnapshot(tx, record.view);
      await writeEvent(tx, record.view.id, record.event);
      // Posted last but for the refund and the event that name it: the account rows it locks
      // are held only until the commit right after.
      const transactionId = record.ledger ? await applyLedgerStep(tx, party, record.ledger, recipe) : null;
      let view = record.view;
      if (record.refund) {
        const refund = { ...record.refund, transactionId };
        await writeRefund(tx, view.id, refund);
        view = withRefund(view, refund);
      }
      await announce(tx, view, record.event);
      return { transactionId };
    }, transactionOptions),
  );
}
