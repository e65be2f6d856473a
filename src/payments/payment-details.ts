import { randomUUID } from 'node:crypto';
import { Prisma, type Db, type PrismaClient } from '../db/prisma.ts';
import type { ColumnCipher } from '../crypto/column-cipher.ts';
import { appendEvent } from '../events/outbox.ts';
import { PaymentsError } from '../domain/errors.ts';
import { mergeMetadata, type Metadata } from '../domain/metadata-limits.ts';
import { openPaymentSecrets } from './payment-secrets.ts';
import { presentPayment } from './public-payment.ts';

// A payment's description and metadata after its creation: the merchant's notes, which no
// transition of the workflow reads or changes. The `payments` row is where they live from then
// on (every read is of it; the workflow's view keeps those it was created with), so an update is
// one transaction: the row and its `payment.updated` outbox event; and the events a transition
// announces take the row's (`readPaymentNotes`). Both columns are stored encrypted
// (src/payments/payment-secrets.ts): this file is the one place that writes and reads them
// after creation.

export interface PaymentDetailsUpdate {
  /** Absent: unchanged; null: removed. */
  description?: string | null | undefined;
  /** Absent: unchanged; merged into the current metadata (src/domain/metadata-limits.ts). */
  metadata?: Metadata | null | undefined;
}

export interface PaymentNotes {
  description: string | null;
  metadata: unknown;
}

const detailsTransactionOptions = { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 } as const;

/** The notes the payment's row holds now, readable; null before its row exists. */
export async function readPaymentNotes(db: Db, cipher: ColumnCipher, paymentId: string): Promise<PaymentNotes | null> {
  const rows = await db.$queryRaw<{ description: string | null; metadata: unknown }[]>`
    SELECT description, metadata FROM payments WHERE id = ${paymentId}`;
  const row = rows[0];
  if (!row) return null;
  return {
    description: cipher.openNullable('payments.description', row.description),
    metadata: cipher.openJson('payments.metadata', row.metadata),
  };
}

/** Updates them, announcing `payment.updated`; null when the merchant has no such payment. */
export async function updatePaymentDetails(
  prisma: PrismaClient,
  cipher: ColumnCipher,
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
    if (update.description !== undefined) {
      data.description = cipher.sealNullable('payments.description', update.description);
    }
    if (update.metadata !== undefined) {
      const opened = cipher.openJson('payments.metadata', current.metadata) as Metadata | null;
      const merged = mergeMetadata(opened, update.metadata);
      if (!merged.ok) throw new PaymentsError('parameter_invalid', merged.message, 'metadata');
      data.metadata = cipher.sealJson('payments.metadata', merged.metadata) ?? Prisma.DbNull;
    }
    const stored = await tx.payment.update({
      where: { id: paymentId },
      data,
      include: { refunds: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
    });
    const payment = openPaymentSecrets(cipher, stored);
    await appendEvent(tx, cipher, {
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
