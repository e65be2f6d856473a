import type { PrismaClient } from '../../src/db/prisma.ts';
import { foldPayment } from '../../src/domain/payment-history.ts';
import { presentPayment, type Payment } from '../../src/payments/public-payment.ts';

/**
 * Every payment of these merchants folded from all its events, next to its read model, read in
 * one snapshot (a transition writes both in one statement, so a snapshot never sees one
 * without the other). A suite expects the two equal for each payment it made.
 */
export async function foldedAndCurrent(
  prisma: PrismaClient,
  merchantIds: readonly string[],
): Promise<{ id: string; folded: Payment; current: Payment }[]> {
  const [payments, events] = await prisma.$transaction(
    [
      prisma.payment.findMany({
        where: { merchantId: { in: [...merchantIds] } },
        include: { refunds: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
      }),
      prisma.paymentEvent.findMany({
        where: { payment: { merchantId: { in: [...merchantIds] } } },
        select: { paymentId: true, version: true, type: true, data: true, createdAt: true },
      }),
    ],
    { isolationLevel: 'RepeatableRead' },
  );
  return payments.map((payment) => ({
    id: payment.id,
    folded: presentPayment(
      foldPayment(
        payment,
        events.filter((event) => event.paymentId === payment.id),
        payment.refunds,
      ),
    ),
    current: presentPayment(payment),
  }));
}

/** One payment folded from all its events, next to its read model, read in one snapshot. */
export async function foldedAndCurrentOf(
  prisma: PrismaClient,
  paymentId: string,
): Promise<{ folded: Payment; current: Payment }> {
  const [payment, events] = await prisma.$transaction(
    [
      prisma.payment.findUniqueOrThrow({
        where: { id: paymentId },
        include: { refunds: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
      }),
      prisma.paymentEvent.findMany({
        where: { paymentId },
        select: { paymentId: true, version: true, type: true, data: true, createdAt: true },
      }),
    ],
    { isolationLevel: 'RepeatableRead' },
  );
  return { folded: presentPayment(foldPayment(payment, events, payment.refunds)), current: presentPayment(payment) };
}
