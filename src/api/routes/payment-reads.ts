import type { Prisma, PrismaClient } from '../../db/prisma.ts';
import { PaymentsError } from '../../domain/errors.ts';
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

export const maxPaymentPageSize = 100;

export async function listPayments(
  prisma: PrismaClient,
  cipher: ColumnCipher,
  merchantId: string,
  filter: {
    status?: string | undefined;
    customer?: string | undefined;
    createdGte?: Date | undefined;
    createdLte?: Date | undefined;
    limit: number;
    startingAfter?: string | undefined;
  },
) {
  const limit = Math.min(Math.max(filter.limit, 1), maxPaymentPageSize);
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
  if (filter.createdGte || filter.createdLte) where.createdAt = { gte: filter.createdGte, lte: filter.createdLte };
  if (filter.startingAfter) {
    const cursor = await prisma.payment.findFirst({
      where: { id: filter.startingAfter, merchantId },
      select: { id: true, createdAt: true },
    });
    if (!cursor) throw new PaymentsError('resource_missing', 'No such payment for starting_after.', 'starting_after');
    // Newest first; ties on created_at are broken by id so no payment is skipped or repeated.
    where.OR = [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }];
  }
  const rows = await prisma.payment.findMany({
    where,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
    include: withRefunds,
  });
  return { data: rows.slice(0, limit).map((row) => openPaymentSecrets(cipher, row)), hasMore: rows.length > limit };
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
