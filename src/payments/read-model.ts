import type { Db, Prisma } from '../db/prisma.ts';
import { apiShape, appendEvent, type OutboundEvent } from '../events/outbox.ts';
import { isAnnouncedPaymentTransition } from '../events/catalog.ts';
import { newId } from '../ids.ts';
import type { PaymentEventRecord, PaymentView, RefundView } from '../domain/payment-view.ts';

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
export async function writeSnapshot(db: Db, view: PaymentView): Promise<void> {
  if (view.version === 1) {
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
          customer: view.customer,
          description: view.description,
          metadata: view.metadata ?? undefined,
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
        data: event.data as Prisma.InputJsonValue,
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

/** The outbox event of a transition, keyed by payment and version so it is written once. */
export function announcement(view: PaymentView, event: PaymentEventRecord): OutboundEvent | undefined {
  if (!isAnnouncedPaymentTransition(event.type)) return undefined;
  const type = event.type;
  // amount_disputed is not part of the public payment shape yet: the route does not show it.
  const { refunds, amountDisputed: _disputed, ...payment } = view;
  return {
    merchantId: view.merchantId,
    type,
    resourceId: event.type.startsWith('refund.') ? String(event.data.refund_id) : view.id,
    data: {
      ...apiShape({ ...payment, object: 'payment', cardFingerprint: undefined }),
      refunds: refunds.map((refund) => apiShape({ ...refund, object: 'refund' })),
      ...(Object.keys(event.data).length > 0 ? { change: apiShape(event.data) } : {}),
    },
    sourceKey: `payment:${view.id}:${event.version}`,
  };
}

export async function announce(db: Db, view: PaymentView, event: PaymentEventRecord): Promise<void> {
  const outbound = announcement(view, event);
  if (outbound) await appendEvent(db, outbound);
}
