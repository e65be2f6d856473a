import type { Prisma, PrismaClient } from '../../db/prisma.ts';
import { listPage, type PageRequest } from '../list-pages.ts';
import type { ColumnCipher } from '../../crypto/column-cipher.ts';
import { openPaymentSecrets } from '../../payments/payment-secrets.ts';

// Reads of the payment read model (payments, refunds, payment_events), never of workflows;
// src/payments/public-payment.ts shapes what they return.

const withRefunds = {
  refunds: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
} satisfies Prisma.PaymentInclude;

/** The merchant's payment with its refunds, its encrypted columns readable. */
export async function loadPayment(prisma: PrismaClient, cipher: ColumnCipher, merchantId: string, id: string) {
  const row = await prisma.payment.findFirst({ where: { id, merchantId }, include: withRefunds });
  return row ? openPaymentSecrets(cipher, row) : null;
}

/**
 * A page of the merchant's payments, newest first (src/api/list-pages.ts), with their refunds
 * (a list shows them only when asked: `expand[]=refunds`), their encrypted columns readable.
 */
export async function listPayments(
  prisma: PrismaClient,
  cipher: ColumnCipher,
  merchantId: string,
  filter: { status?: string | undefined; customer?: string | undefined },
  page: PageRequest,
) {
  const where: Prisma.PaymentWhereInput = { merchantId };
  if (filter.status) where.status = filter.status;
  if (filter.customer) {
    // The column is ciphertext: its blind index under every key, or, for a row written before
    // encryption that `keys:rotate` has not reached yet, the plaintext itself.
    where.AND = [
      {
        OR: [
          { customerIndex: { in: cipher.indexes('payments.customer', filter.customer) } },
          { customerIndex: null, customer: filter.customer },
        ],
      },
    ];
  }
  const found = await listPage(
    page,
    {
      position: (id) => prisma.payment.findFirst({ where: { id, merchantId }, select: { id: true, createdAt: true } }),
      rows: (page) => prisma.payment.findMany({ ...page, where: { AND: [where, page.where] }, include: withRefunds }),
    },
    'payment',
  );
  return { ...found, data: found.data.map((row) => openPaymentSecrets(cipher, row)) };
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
      rows: (page) => prisma.refund.findMany({ ...page, where: { AND: [where, page.where] } }),
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
