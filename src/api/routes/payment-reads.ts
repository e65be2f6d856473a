import type { Prisma, PrismaClient } from '../../db/prisma.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { toJsonAmount } from '../../domain/money.ts';
import type { Payment, Refund } from '../schemas/payments.ts';
import { openingView, type PaymentInput, type PaymentView } from '../../domain/payment-view.ts';

// Reads of the payment read model (payments, refunds, payment_events), never of workflows.

export interface PaymentRecord {
  id: string;
  status: string;
  amount: bigint;
  currency: string;
  captureMethod: string;
  amountCapturable: bigint;
  amountCaptured: bigint;
  amountRefunded: bigint;
  fee: bigint | null;
  netAmount: bigint | null;
  sourceType: string;
  provider: string | null;
  cardBrand: string | null;
  cardLast4: string | null;
  walletAccountId: string | null;
  customer: string | null;
  description: string | null;
  metadata: unknown;
  failureCode: string | null;
  failureMessage: string | null;
  cancellationReason: string | null;
  settled: boolean;
  createdAt: Date;
  refunds: RefundRecord[];
  events: { type: string; data: unknown; createdAt: Date }[];
}

export interface RefundRecord {
  id: string;
  paymentId: string;
  amount: bigint;
  status: string;
  reason: string | null;
  createdAt: Date | string;
}

const withHistory = {
  refunds: { orderBy: { createdAt: 'asc' } },
  events: { orderBy: { version: 'asc' } },
} satisfies Prisma.PaymentInclude;

export function loadPayment(prisma: PrismaClient, merchantId: string, id: string) {
  return prisma.payment.findFirst({ where: { id, merchantId }, include: withHistory });
}

export const maxPaymentPageSize = 100;

export async function listPayments(
  prisma: PrismaClient,
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
  if (filter.customer) where.customer = filter.customer;
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
    include: withHistory,
  });
  return { data: rows.slice(0, limit), hasMore: rows.length > limit };
}

/**
 * A payment whose workflow has started but not yet written to the read model (no worker has
 * run it yet): what the request asked for, in status processing.
 */
export function processingPayment(input: PaymentInput): PaymentRecord {
  return viewAsRow(openingView(input));
}

/** The workflow's own view, shaped like a read-model row. */
export function viewAsRow(view: PaymentView): PaymentRecord {
  return {
    ...view,
    createdAt: new Date(view.createdAt),
    events: [],
    refunds: view.refunds.map((refund) => ({ ...refund, createdAt: new Date(refund.createdAt) })),
  };
}

export function presentRefund(refund: RefundRecord): Refund {
  return {
    id: refund.id,
    object: 'refund',
    payment_id: refund.paymentId,
    amount: toJsonAmount(refund.amount),
    status: refund.status,
    reason: refund.reason,
    created_at: typeof refund.createdAt === 'string' ? refund.createdAt : refund.createdAt.toISOString(),
  };
}

export function presentPayment(payment: PaymentRecord): Payment {
  const nullable = (amount: bigint | null) => (amount === null ? null : toJsonAmount(amount));
  return {
    id: payment.id,
    object: 'payment',
    status: payment.status,
    amount: toJsonAmount(payment.amount),
    currency: payment.currency,
    amount_capturable: toJsonAmount(payment.amountCapturable),
    amount_captured: toJsonAmount(payment.amountCaptured),
    amount_refunded: toJsonAmount(payment.amountRefunded),
    refunded: payment.amountCaptured > 0n && payment.amountRefunded === payment.amountCaptured,
    fee: nullable(payment.fee),
    net_amount: nullable(payment.netAmount),
    source:
      payment.sourceType === 'wallet'
        ? { type: 'wallet', account_id: payment.walletAccountId ?? '' }
        : { type: 'card', brand: payment.cardBrand, last4: payment.cardLast4, provider: payment.provider },
    customer: payment.customer,
    description: payment.description,
    metadata: (payment.metadata as Record<string, string> | null) ?? null,
    capture_method: payment.captureMethod,
    failure_code: payment.failureCode,
    failure_message: payment.failureMessage,
    cancellation_reason: payment.cancellationReason,
    settled: payment.settled,
    created_at: payment.createdAt.toISOString(),
    events: payment.events.map((event) => ({
      type: event.type,
      created_at: event.createdAt.toISOString(),
      data: event.data as Record<string, unknown>,
    })),
    refunds: payment.refunds.map(presentRefund),
  };
}
