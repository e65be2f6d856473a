import type { PrismaClient } from '../../src/db/prisma.ts';
import { releaseHold } from '../../src/ledger/ledger.ts';
import { captureRecipe, disputeRecipe, refundRecipe, settlementRecipe } from '../../src/ledger/payment-recipes.ts';
import type { LedgerStep } from '../../src/domain/ledger-step.ts';
import { applyLedgerStep, ensureAccounts } from '../../src/payments/payment-books.ts';
import { announce, writeEvent, writeRefund, writeSnapshot } from '../../src/payments/read-model.ts';
import type { ColumnCipher } from '../../src/crypto/column-cipher.ts';
import { riskFacts } from '../../src/payments/risk-facts.ts';
import { readPaymentNotes } from '../../src/payments/payment-details.ts';
import type { PaymentEventRecord, PaymentView } from '../../src/domain/payment-view.ts';

// The database activities only the first payment workflow version (workflows/legacy/payment-v1.ts)
// calls, one step each, kept under their names and with their behaviour until its last run
// has closed (docs/adr/0001-payment-workflow-v2.md). They share the read model and the ledger
// recipes with the current version.

const transactionOptions = { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 } as const;

interface Party {
  paymentId: string;
  merchantId: string;
  currency: string;
  walletAccountId?: string | null;
}

const partyOf = (input: Party) => ({ ...input, walletAccountId: input.walletAccountId ?? null });

export function createPaymentV1Activities(prisma: PrismaClient, cipher: ColumnCipher) {
  const postStep = async (input: Party, step: LedgerStep, recipe: ReturnType<typeof captureRecipe>) => {
    await ensureAccounts(prisma, recipe.accounts);
    const transactionId = await applyLedgerStep(prisma, partyOf(input), step, recipe);
    if (!transactionId) throw new Error(`ledger step ${step.kind} posted nothing`);
    return { transactionId };
  };

  return {
    /** Writes the payment's snapshot, every refund and its numbered event in one transaction. */
    async recordPayment({ view, event }: { view: PaymentView; event: PaymentEventRecord }): Promise<void> {
      const complete = { ...view, amountDisputed: view.amountDisputed ?? 0n };
      await prisma.$transaction(async (tx) => {
        await writeSnapshot(tx, complete, cipher);
        for (const refund of complete.refunds) await writeRefund(tx, complete.id, refund);
        // Its event shows the notes the merchant may have changed since, as the current version's do.
        const notes = await readPaymentNotes(tx, cipher, complete.id);
        const metadata = notes?.metadata as PaymentView['metadata'] | undefined;
        await announce(
          tx,
          cipher,
          notes ? { ...complete, description: notes.description, metadata: metadata ?? null } : complete,
          event,
        );
        await writeEvent(tx, complete.id, event);
      }, transactionOptions);
    },

    async paymentRiskFacts(input: {
      paymentId: string;
      customer: string | null;
      cardFingerprint: string | null;
      windowMs: number;
    }) {
      // The first version's request names no merchant; its payment row (recorded first) does.
      const { merchantId } = await prisma.payment.findUniqueOrThrow({
        where: { id: input.paymentId },
        select: { merchantId: true },
      });
      return riskFacts(prisma, { ...input, merchantId, at: new Date() }, cipher);
    },

    async releaseWallet(input: { paymentId: string; status: 'released' | 'expired' }): Promise<void> {
      await releaseHold(prisma, input.paymentId, input.status);
    },

    async postPaymentCapture(input: Party & { amount: bigint; fee: bigint }) {
      const step = { kind: 'capture', amount: input.amount, fee: input.fee } as const;
      return postStep(input, step, captureRecipe(partyOf(input), input.amount, input.fee));
    },

    async postDispute(input: Party & { disputeId: string; amount: bigint; fromPending: boolean }) {
      const step = { kind: 'dispute', ...input } as const;
      return postStep(input, step, disputeRecipe(partyOf(input), input));
    },

    async settlePayment(input: Party & { amount: bigint }) {
      const step = { kind: 'settlement', amount: input.amount } as const;
      return postStep(input, step, settlementRecipe(partyOf(input), input.amount));
    },

    async postRefund(input: Party & { refundId: string; amount: bigint; feeBack: bigint; fromPending: boolean }) {
      const step = { kind: 'refund', ...input } as const;
      const { transactionId } = await postStep(input, step, refundRecipe(partyOf(input), input));
      const transaction = await prisma.ledgerTransaction.findUniqueOrThrow({ where: { id: transactionId } });
      return { transactionId, createdAt: transaction.createdAt.toISOString() };
    },
  };
}
