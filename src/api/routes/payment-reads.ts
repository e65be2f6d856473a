import type { Prisma, PrismaClient } from '../../db/prisma.ts';
import { listPage, pageOrder, type PageRequest } from '../list-pages.ts';

// Reads of the payment read model (payments, refunds, payment_events), never of workflows;
// src/payments/public-payment.ts shapes what they return.

const withRefunds = {
  refunds: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
} satisfies Prisma.PaymentInclude;

export function loadPayment(prisma: PrismaClient, merchantId: string, id: string) {
  return prisma.payment.findFirst({ where: { id, merchantId }, include: withRefunds });
}

/**
 * A page of the merchant's payments, newest first (src/api/list-pages.ts), with their refunds
 * when `withRefundRows` (a list embeds them only when asked: `expand[]=refunds`).
 */
export function listPayments(
  prisma: PrismaClient,
  merchantId: string,
  filter: { status?: string | undefined; customer?: string | undefined },
  page: PageRequest,
) {
  const where: Prisma.PaymentWhereInput = { merchantId };
  if (filter.status) where.status = filter.status;
  if (filter.customer) where.customer = filter.customer;
  return listPage(
    page,
    {
      position: (id) => prisma.payment.findFirst({ where: { id, merchantId }, select: { id: true, createdAt: true } }),
      rows: (paged, order, take) =>
        prisma.payment.findMany({
          where: { ...where, ...paged },
          orderBy: pageOrder(order),
          take,
          include: withRefunds,
        }),
    },
    'payment',
  );
}

/** The merchant's refunds, newest first; of one payment with `paymentId`. */
export function listRefunds(
  prisma: PrismaClient,
  merchantId: string,
  filter: { paymentId?: string | undefined },
  page: PageRequest,
) {
  const where: Prisma.RefundWhereInput = { payment: { merchantId } };
  if (filter.paymentId !== undefined) where.paymentId = filter.paymentId;
  return listPage(
    page,
    {
      position: (id) => prisma.refund.findFirst({ where: { ...where, id }, select: { id: true, createdAt: true } }),
      rows: (paged, order, take) =>
        prisma.refund.findMany({ where: { ...where, ...paged }, orderBy: pageOrder(order), take }),
    },
    'refund',
  );
}

/** The public timelines of several payments at once (for `expand[]=events`), by payment id. */
export async function loadTimelines(prisma: PrismaClient, paymentIds: readonly string[]) {
  const rows = await prisma.paymentEvent.findMany({
    where: { paymentId: { in: [...paymentIds] } },
    orderBy: [{ paymentId: 'asc' }, { version: 'asc' }],
    select: { paymentId: true, type: true, data: true, createdAt: true },
  });
  const byPayment = new Map<string, typeof rows>(paymentIds.map((id) => [id, []]));
  for (const row of rows) byPayment.get(row.paymentId)?.push(row);
  return byPayment;
}

/**
 * The payment's recorded transitions, oldest first (its timeline shows the public ones); with
 * `until`, those recorded by then (an API instant covers its whole millisecond).
 */
export function loadPaymentEvents(prisma: PrismaClient, paymentId: string, until?: Date) {
  return prisma.paymentEvent.findMany({
    where: { paymentId, ...(until ? { createdAt: { lt: new Date(until.getTime() + 1) } } : {}) },
    orderBy: { version: 'asc' },
    select: { version: true, type: true, data: true, createdAt: true },
  });
}
