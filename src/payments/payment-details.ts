import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '../db/prisma.ts';
import { appendEvent } from '../events/outbox.ts';
import { PaymentsError } from '../domain/errors.ts';
import { mergeMetadata, type Metadata } from '../domain/metadata-limits.ts';
import { presentPayment } from './public-payment.ts';

// A payment's description and metadata after its creation: the merchant's own notes, which no
// transition of the workflow reads or changes. The `payments` row is where they live from then
// on (every read is of it, and the transition statement takes them from it for the events it
// writes), so an update is one transaction: the row and its `payment.updated` outbox event.
// This is the one place that writes them after creation, and `withCurrentNotes` the one place
// the transition statement reads them: encryption at rest hooks in here.

export interface PaymentDetailsUpdate {
  /** Absent: unchanged; null: removed. */
  description?: string | null | undefined;
  /** Absent: unchanged; merged into the current metadata (src/domain/metadata-limits.ts). */
  metadata?: Metadata | null | undefined;
}

/**
 * A payment's public JSON (`data`, a jsonb expression) with the description and metadata its
 * row holds when the statement runs, for the events a workflow transition announces: the
 * workflow's view still has those it was created with. A new payment has no row yet, and its
 * own notes. (Were the columns stored encrypted, this would copy ciphertext: the notes would
 * then be read and opened before the statement instead.)
 */
export function withCurrentNotes(data: Prisma.Sql, paymentId: string): Prisma.Sql {
  return Prisma.sql`${data} || COALESCE((SELECT jsonb_build_object('description', description,
    'metadata', metadata) FROM payments WHERE id = ${paymentId}), '{}'::jsonb)`;
}

const detailsTransactionOptions = { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 } as const;

/** Updates them, announcing `payment.updated`; null when the merchant has no such payment. */
export async function updatePaymentDetails(
  prisma: PrismaClient,
  merchantId: string,
  paymentId: string,
  update: PaymentDetailsUpdate,
) {
  return prisma.$transaction(async (tx) => {
    // The row lock orders concurrent updates of one payment: each merges into the one before.
    const locked = await tx.$queryRaw<{ metadata: unknown }[]>`
      SELECT metadata FROM payments WHERE id = ${paymentId} AND merchant_id = ${merchantId} FOR UPDATE`;
    const current = locked[0];
    if (!current) return null;
    const data: Prisma.PaymentUpdateInput = { updatedAt: new Date() };
    if (update.description !== undefined) data.description = update.description;
    if (update.metadata !== undefined) {
      const merged = mergeMetadata((current.metadata as Metadata | null) ?? null, update.metadata);
      if (!merged.ok) throw new PaymentsError('parameter_invalid', merged.message, 'metadata');
      data.metadata = merged.metadata ?? Prisma.DbNull;
    }
    const payment = await tx.payment.update({
      where: { id: paymentId },
      data,
      include: { refunds: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
    });
    await appendEvent(tx, {
      merchantId,
      type: 'payment.updated',
      resourceId: payment.id,
      data: presentPayment(payment),
      // Each update is a change of its own: a key no retry of anything else can repeat.
      sourceKey: `payment:${payment.id}:details:${randomUUID()}`,
    });
    return payment;
  }, detailsTransactionOptions);
}
