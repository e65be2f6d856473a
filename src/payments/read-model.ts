import type { Db, Prisma } from '../db/prisma.ts';
import { appendEvent, jsonSafe, type OutboundEvent } from '../events/outbox.ts';
import { isAnnouncedPaymentTransition } from '../events/catalog.ts';
import { newId } from '../ids.ts';
import type { PaymentEventRecord, PaymentView, RefundView } from '../domain/payment-view.ts';
import { presentPayment } from './public-payment.ts';
import type { ColumnCipher } from '../crypto/column-cipher.ts';
import { sealPaymentSecrets } from './payment-secrets.ts';
import { presentRefund } from './public-refund.ts';

// The payment read model: the `payments` snapshot, its numbered `payment_events`, the refunds,
// and the outbox event that announces the transition, all written with the caller's
// transaction client so that a transition is recorded whole or not at all. Every write is
// idempotent: the snapshot only moves forward by version, events and refunds are keyed.

function snapshot(view: PaymentView) {
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

/** The first version inserts the row; later ones overwrite it unless a newer one is there. */
export async function writeSnapshot(db: Db, view: PaymentView, cipher: ColumnCipher): Promise<void> {
  if (view.version === 1) {
    const sealed = sealPaymentSecrets(cipher, view);
    await db.payment.createMany({
      data: [
        {
          id: view.id,
          merchantId: view.merchantId,
          amount: view.amount,
          currency: view.currency,
          captureMethod: view.captureMethod,
          sourceType: view.sourceType,
          cardFingerprint: view.cardFingerprint,
          walletAccountId: view.walletAccountId,
          customer: sealed.customer,
          customerIndex: sealed.customerIndex,
          description: sealed.description,
          metadata: sealed.metadata ?? undefined,
          createdAt: new Date(view.createdAt),
          ...snapshot(view),
        },
      ],
      skipDuplicates: true,
    });
    return;
  }
  // A late retry of an older transition must not overwrite a newer snapshot.
  await db.payment.updateMany({ where: { id: view.id, version: { lt: view.version } }, data: snapshot(view) });
}

export async function writeEvent(db: Db, paymentId: string, event: PaymentEventRecord): Promise<void> {
  await db.paymentEvent.createMany({
    data: [
      {
        id: newId('pev'),
        paymentId,
        version: event.version,
        type: event.type,
        // Amounts as JSON integers, as the statement of the current version writes them.
        data: jsonSafe(event.data) as Prisma.InputJsonValue,
      },
    ],
    skipDuplicates: true,
  });
}

export async function writeRefund(db: Db, paymentId: string, refund: RefundView): Promise<void> {
  await db.refund.upsert({
    where: { id: refund.id },
    create: {
      id: refund.id,
      paymentId,
      amount: refund.amount,
      reason: refund.reason,
      status: refund.status,
      providerRefundId: refund.providerRefundId,
      transactionId: refund.transactionId,
      createdAt: new Date(refund.createdAt),
    },
    update: { status: refund.status, updatedAt: new Date() },
  });
}

/**
 * The outbox event of a transition, keyed by payment and version so it is written once. Its
 * data is the public resource at this version: the refund for refund.*, else the payment.
 */
export function announcement(view: PaymentView, event: PaymentEventRecord): OutboundEvent | undefined {
  if (!isAnnouncedPaymentTransition(event.type)) return undefined;
  const announced = { merchantId: view.merchantId, type: event.type, sourceKey: `payment:${view.id}:${event.version}` };
  if (!event.type.startsWith('refund.')) return { ...announced, resourceId: view.id, data: presentPayment(view) };
  const refund = view.refunds.find((known) => known.id === event.data.refund_id);
  if (!refund) throw new Error(`${event.type} of ${view.id} names no refund of the payment`);
  return { ...announced, resourceId: refund.id, data: presentRefund(refund) };
}

export async function announce(
  db: Db,
  cipher: ColumnCipher,
  view: PaymentView,
  event: PaymentEventRecord,
): Promise<void> {
  const outbound = announcement(view, event);
  if (outbound) await appendEvent(db, cipher, outbound);
}
