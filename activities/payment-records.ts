import type { PrismaClient } from '../src/db/prisma.ts';
import { placeHold } from '../src/ledger/ledger.ts';
import { walletHoldExpiryMs } from '../src/domain/hold-expiry.ts';
import type { PaymentParty } from '../src/ledger/payment-recipes.ts';
import type { LedgerStep } from '../src/domain/ledger-step.ts';
import { ensureAccounts, recipeFor } from '../src/payments/payment-books.ts';
import type { RiskFacts } from '../src/payments/risk-facts.ts';
import {
  openPaymentStatement,
  recordTransitionStatement,
  type RecordedTransition,
} from '../src/payments/transition-statement.ts';
import { ledgerPostings, paymentTransitions } from '../src/observability/metrics.ts';
import type { PaymentEventRecord, PaymentView, RefundView } from '../src/domain/payment-view.ts';
import type { ColumnCipher } from '../src/crypto/column-cipher.ts';
import { isAnnouncedPaymentTransition } from '../src/events/catalog.ts';
import { readPaymentNotes } from '../src/payments/payment-details.ts';

// The database steps of the payment workflow, run as local activities. Each transition is one
// SQL statement (src/payments/transition-statement.ts): the read-model snapshot, its numbered
// event, the ledger posting and the outbox event commit together or not at all, and every
// write is keyed, so a retried step changes nothing twice.

export interface TransitionRecord {
  view: PaymentView;
  event: PaymentEventRecord;
  /** The refund this transition creates; its ledger transaction id and created_at are filled in here. */
  refund?: RefundView | undefined;
  ledger?: LedgerStep | undefined;
  /** The recording workflow task (workflows/task-mark.ts): a later task's transition replaces a lost one's. */
  taskMark?: bigint | undefined;
}

/** A retried step that changed nothing is not counted (the statement tells: `fresh`). */
function countTransition(view: PaymentView, from: string): void {
  paymentTransitions.inc({ from, to: view.status, provider: view.provider ?? 'none', currency: view.currency });
}

export function partyOf(view: PaymentView): PaymentParty {
  return {
    paymentId: view.id,
    merchantId: view.merchantId,
    currency: view.currency,
    walletAccountId: view.walletAccountId,
  };
}

export function createPaymentRecordActivities(prisma: PrismaClient, cipher: ColumnCipher) {
  return {
    /** Records the new payment (version 1) and returns the velocity facts for its risk check. */
    async openPayment(input: { view: PaymentView; event: PaymentEventRecord; windowMs: number }): Promise<RiskFacts> {
      const { fresh, ...facts } = await openPaymentStatement(prisma, input, cipher);
      if (fresh) countTransition(input.view, 'none');
      return facts;
    },

    async recordTransition(record: TransitionRecord): Promise<RecordedTransition> {
      const party = partyOf(record.view);
      const recipe = record.ledger ? recipeFor(party, record.ledger) : undefined;
      if (recipe) await ensureAccounts(prisma, recipe.accounts);
      // A payment event shows the notes the merchant may have changed since (not the workflow's).
      const announcesPayment =
        isAnnouncedPaymentTransition(record.event.type) && !record.event.type.startsWith('refund.');
      const notes = announcesPayment ? await readPaymentNotes(prisma, cipher, record.view.id) : null;
      const { previousStatus, fresh, ...recorded } = await recordTransitionStatement(
        prisma,
        {
          ...record,
          party,
          recipe,
          notes: notes ?? undefined,
        },
        cipher,
      );
      if (fresh && previousStatus !== record.view.status) countTransition(record.view, previousStatus ?? 'none');
      if (recipe) ledgerPostings.inc({ kind: recipe.posting.kind, replayed: String(!fresh) });
      return recorded;
    },

    /**
     * A wallet payment's authorization: a ledger hold on the customer's account. It expires
     * after every capture its payment can still make (walletHoldExpiryMs); a caller without the
     * payment's authorization expiry (the v1 workflow) places one that never expires.
     */
    async holdWallet(input: {
      paymentId: string;
      accountId: string;
      amount: bigint;
      authorizationExpiryMs?: number;
    }): Promise<void> {
      const expiresAt =
        input.authorizationExpiryMs === undefined
          ? undefined
          : new Date(Date.now() + walletHoldExpiryMs(input.authorizationExpiryMs));
      await placeHold(prisma, {
        accountId: input.accountId,
        amount: input.amount,
        reference: input.paymentId,
        expiresAt,
      });
    },
  };
}
