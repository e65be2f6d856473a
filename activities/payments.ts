import { Context } from '@temporalio/activity';
import type { PrismaClient, Prisma } from '../src/db/prisma.ts';
import {
  captureHold,
  ensureMerchantAccount,
  ensureSystemAccount,
  placeHold,
  post,
  releaseHold,
  type Posting,
} from '../src/ledger/ledger.ts';
import type { ProviderCharge, ProviderGateway, ProviderName } from '../src/providers/provider.ts';
import type { PaymentEventRecord, PaymentView } from '../workflows/payment-view.ts';
import { newId } from '../src/ids.ts';
import { PaymentsError, errorCatalog } from '../src/domain/errors.ts';
import { apiShape, appendEvent } from '../src/events/outbox.ts';

// Activities of the payment workflow. Every provider call carries the key
// `<payment id>:<step>`; every ledger posting the key `<payment id>:<step>:ledger`; every
// read-model write is guarded by a unique key. Retrying any of them changes nothing twice.

const transactionOptions = { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 } as const;

/** Drops zero legs (a zero fee, a fully fee-covered refund): the ledger refuses zero entries. */
function legs(...postings: Posting[]): Posting[] {
  return postings.filter((posting) => posting.amount !== 0n);
}

function paymentRow(view: PaymentView) {
  return {
    status: view.status,
    amountCapturable: view.amountCapturable,
    amountCaptured: view.amountCaptured,
    amountRefunded: view.amountRefunded,
    fee: view.fee,
    netAmount: view.netAmount,
    provider: view.provider,
    providerChargeId: view.providerChargeId,
    cardBrand: view.cardBrand,
    cardLast4: view.cardLast4,
    failureCode: view.failureCode,
    failureMessage: view.failureMessage,
    cancellationReason: view.cancellationReason,
    settled: view.settled,
    version: view.version,
    updatedAt: new Date(),
  };
}

/** How often a provider call in flight tells Temporal its worker is alive. */
const heartbeatIntervalMs = 1_000;

/**
 * Runs a provider call while heartbeating, so a worker that dies mid-call is noticed after the
 * activity's heartbeatTimeout (seconds) rather than its whole startToCloseTimeout; the retry
 * then reuses the call's idempotency key.
 */
async function heartbeating<T>(call: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(), heartbeatIntervalMs);
  try {
    return await call();
  } finally {
    clearInterval(timer);
  }
}

/** Which payment transitions merchants hear about (all but internal bookkeeping). */
function announcedType(transition: string): string | undefined {
  return transition.startsWith('payment.') || transition.startsWith('refund.') ? transition : undefined;
}

export function createPaymentActivities(prisma: PrismaClient, providers: ProviderGateway) {
  return {
    /** Writes the payment's snapshot and its numbered event in one transaction (idempotent). */
    async recordPayment({ view, event }: { view: PaymentView; event: PaymentEventRecord }): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await tx.payment.upsert({
          where: { id: view.id },
          create: {
            id: view.id,
            merchantId: view.merchantId,
            amount: view.amount,
            currency: view.currency,
            captureMethod: view.captureMethod,
            sourceType: view.sourceType,
            cardFingerprint: view.cardFingerprint,
            walletAccountId: view.walletAccountId,
            customer: view.customer,
            description: view.description,
            metadata: view.metadata ?? undefined,
            createdAt: new Date(view.createdAt),
            ...paymentRow(view),
          },
          // A late retry of an older transition must not overwrite a newer snapshot.
          update: {},
        });
        await tx.payment.updateMany({ where: { id: view.id, version: { lt: view.version } }, data: paymentRow(view) });
        for (const refund of view.refunds) {
          await tx.refund.upsert({
            where: { id: refund.id },
            create: {
              id: refund.id,
              paymentId: view.id,
              amount: refund.amount,
              reason: refund.reason,
              status: refund.status,
              providerRefundId: refund.providerRefundId,
              transactionId: refund.transactionId,
            },
            update: { status: refund.status, updatedAt: new Date() },
          });
        }
        const announced = announcedType(event.type);
        if (announced) {
          const { refunds, ...payment } = view;
          await appendEvent(tx, {
            merchantId: view.merchantId,
            type: announced,
            resourceId: event.type.startsWith('refund.') ? String(event.data.refund_id) : view.id,
            data: {
              ...apiShape({ ...payment, object: 'payment', cardFingerprint: undefined }),
              refunds: refunds.map((refund) => apiShape({ ...refund, object: 'refund' })),
              ...(Object.keys(event.data).length > 0 ? { change: apiShape(event.data) } : {}),
            },
            sourceKey: `payment:${view.id}:${event.version}`,
          });
        }
        await tx.paymentEvent.createMany({
          data: [
            {
              id: newId('pev'),
              paymentId: view.id,
              version: event.version,
              type: event.type,
              data: event.data as Prisma.InputJsonValue,
            },
          ],
          skipDuplicates: true,
        });
      }, transactionOptions);
    },

    /** Velocity facts for the risk rules: earlier payments by this customer and this card. */
    async paymentRiskFacts(input: {
      paymentId: string;
      customer: string | null;
      cardFingerprint: string | null;
      windowMs: number;
    }): Promise<{ customerPaymentsInWindow: number; cardPaymentsInWindow: number }> {
      const since = new Date(Date.now() - input.windowMs);
      const count = (where: Prisma.PaymentWhereInput) =>
        prisma.payment.count({ where: { ...where, id: { not: input.paymentId }, createdAt: { gte: since } } });
      const [customerPaymentsInWindow, cardPaymentsInWindow] = await Promise.all([
        input.customer ? count({ customer: input.customer }) : 0,
        input.cardFingerprint ? count({ cardFingerprint: input.cardFingerprint }) : 0,
      ]);
      return { customerPaymentsInWindow, cardPaymentsInWindow };
    },

    async authorizeCard(input: {
      paymentId: string;
      amount: bigint;
      currency: string;
      token: string;
      provider?: ProviderName | undefined;
      capture: boolean;
    }): Promise<ProviderCharge & { orphanProviders?: ProviderName[] }> {
      const { charge, failedAttempts } = await heartbeating(() =>
        providers.authorize({ ...input, idempotencyKey: `${input.paymentId}:authorize` }),
      );
      // Only a provider that may have processed the request can hold an orphan authorization.
      const orphanProviders = failedAttempts
        .filter((attempt) => attempt.outcomeUnknown)
        .map((attempt) => attempt.provider);
      return orphanProviders.length > 0 ? { ...charge, orphanProviders } : charge;
    },

    /**
     * After a fallback, a provider that timed out may still have authorized (or charged) under
     * `<payment id>:authorize:<provider>`. Repeating that exact request with the same key is how a
     * provider tells what it did (Stripe replays the stored answer); whatever it holds is then
     * voided, or refunded if it was captured. If the first request never arrived, the repeat
     * authorizes now and is released at once: the customer is never left charged twice.
     */
    async releaseOrphanAuthorizations(input: {
      paymentId: string;
      amount: bigint;
      currency: string;
      token: string;
      capture: boolean;
      providers: ProviderName[];
    }): Promise<void> {
      for (const name of input.providers) {
        const provider = providers.forCharge(name);
        let orphan: ProviderCharge;
        try {
          orphan = await provider.authorize({
            idempotencyKey: `${input.paymentId}:authorize:${name}`,
            paymentId: input.paymentId,
            amount: input.amount,
            currency: input.currency,
            token: input.token,
            capture: input.capture,
          });
        } catch (error) {
          if (error instanceof PaymentsError && !errorCatalog[error.code].retryable) continue; // declined: nothing held
          throw error;
        }
        if (orphan.status === 'authorized') {
          await provider.void({ idempotencyKey: `${input.paymentId}:orphan-void:${name}`, chargeId: orphan.chargeId });
        } else if (orphan.status === 'captured' && orphan.amountCaptured > orphan.amountRefunded) {
          await provider.refund({
            idempotencyKey: `${input.paymentId}:orphan-refund:${name}`,
            chargeId: orphan.chargeId,
            amount: orphan.amountCaptured - orphan.amountRefunded,
          });
        }
      }
    },

    async captureCard(input: { paymentId: string; provider: ProviderName; chargeId: string; amount: bigint }) {
      return heartbeating(() =>
        providers.forCharge(input.provider).capture({
          idempotencyKey: `${input.paymentId}:capture`,
          chargeId: input.chargeId,
          amount: input.amount,
        }),
      );
    },

    async voidCard(input: { paymentId: string; provider: ProviderName; chargeId: string }) {
      return heartbeating(() =>
        providers
          .forCharge(input.provider)
          .void({ idempotencyKey: `${input.paymentId}:void`, chargeId: input.chargeId }),
      );
    },

    async refundCard(input: {
      paymentId: string;
      refundId: string;
      provider: ProviderName;
      chargeId: string;
      amount: bigint;
    }) {
      return heartbeating(() =>
        providers.forCharge(input.provider).refund({
          idempotencyKey: `${input.paymentId}:refund:${input.refundId}`,
          chargeId: input.chargeId,
          amount: input.amount,
        }),
      );
    },

    /** A wallet payment's authorization: a ledger hold on the customer's account. */
    async holdWallet(input: { paymentId: string; accountId: string; amount: bigint }): Promise<void> {
      await placeHold(prisma, { accountId: input.accountId, amount: input.amount, reference: input.paymentId });
    },

    async releaseWallet(input: { paymentId: string; status: 'released' | 'expired' }): Promise<void> {
      await releaseHold(prisma, input.paymentId, input.status);
    },

    /**
     * The capture's money movement: the payer side (provider clearing for a card, the held
     * customer account for a wallet) pays the merchant's pending balance net of the fee, and
     * the fee goes to platform_fees.
     */
    async postPaymentCapture(input: {
      paymentId: string;
      merchantId: string;
      currency: string;
      amount: bigint;
      fee: bigint;
      walletAccountId: string | null;
    }): Promise<{ transactionId: string }> {
      const pending = await ensureMerchantAccount(prisma, 'merchant_pending', input.merchantId, input.currency);
      const fees = await ensureSystemAccount(prisma, 'platform_fees', input.currency);
      const payer = input.walletAccountId ?? (await ensureSystemAccount(prisma, 'provider_clearing', input.currency));
      const posting = {
        kind: 'payment_capture',
        idempotencyKey: `${input.paymentId}:capture:ledger`,
        metadata: { payment_id: input.paymentId },
        entries: legs(
          { accountId: payer, amount: -input.amount },
          { accountId: pending, amount: input.amount - input.fee },
          { accountId: fees, amount: input.fee },
        ),
      };
      const result = input.walletAccountId
        ? await captureHold(prisma, input.paymentId, input.amount, posting)
        : await post(prisma, { ...posting, reference: input.paymentId });
      return { transactionId: result.transactionId };
    },

    /** A dispute: the disputed amount leaves the merchant's balance for the disputes account. */
    async postDispute(input: {
      paymentId: string;
      disputeId: string;
      merchantId: string;
      currency: string;
      amount: bigint;
      fromPending: boolean;
    }) {
      const merchant = await ensureMerchantAccount(
        prisma,
        input.fromPending ? 'merchant_pending' : 'merchant_available',
        input.merchantId,
        input.currency,
      );
      const disputes = await ensureSystemAccount(prisma, 'disputes', input.currency);
      return post(prisma, {
        kind: 'dispute',
        reference: input.paymentId,
        idempotencyKey: `${input.paymentId}:dispute:${input.disputeId}:ledger`,
        metadata: { dispute_id: input.disputeId },
        entries: [
          { accountId: merchant, amount: -input.amount },
          { accountId: disputes, amount: input.amount },
        ],
      });
    },

    /** Settlement: the merchant's pending proceeds become available. */
    async settlePayment(input: { paymentId: string; merchantId: string; currency: string; amount: bigint }) {
      const pending = await ensureMerchantAccount(prisma, 'merchant_pending', input.merchantId, input.currency);
      const available = await ensureMerchantAccount(prisma, 'merchant_available', input.merchantId, input.currency);
      return post(prisma, {
        kind: 'settlement',
        reference: input.paymentId,
        idempotencyKey: `${input.paymentId}:settle:ledger`,
        entries: [
          { accountId: pending, amount: -input.amount },
          { accountId: available, amount: input.amount },
        ],
      });
    },

    /**
     * A refund gives the payer `amount`: the merchant pays it net of the fee share that the
     * platform gives back (`feeBack`), from pending before settlement and available after.
     */
    async postRefund(input: {
      paymentId: string;
      refundId: string;
      merchantId: string;
      currency: string;
      amount: bigint;
      feeBack: bigint;
      fromPending: boolean;
      walletAccountId: string | null;
    }): Promise<{ transactionId: string; createdAt: string }> {
      const merchant = await ensureMerchantAccount(
        prisma,
        input.fromPending ? 'merchant_pending' : 'merchant_available',
        input.merchantId,
        input.currency,
      );
      const fees = await ensureSystemAccount(prisma, 'platform_fees', input.currency);
      const payer = input.walletAccountId ?? (await ensureSystemAccount(prisma, 'provider_clearing', input.currency));
      const { transactionId } = await post(prisma, {
        kind: 'refund',
        reference: input.refundId,
        idempotencyKey: `${input.paymentId}:refund:${input.refundId}:ledger`,
        metadata: { payment_id: input.paymentId },
        entries: legs(
          { accountId: merchant, amount: -(input.amount - input.feeBack) },
          { accountId: fees, amount: -input.feeBack },
          { accountId: payer, amount: input.amount },
        ),
      });
      const transaction = await prisma.ledgerTransaction.findUniqueOrThrow({ where: { id: transactionId } });
      return { transactionId, createdAt: transaction.createdAt.toISOString() };
    },
  };
}
