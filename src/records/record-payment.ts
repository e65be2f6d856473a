import { Prisma, type PrismaClient } from '../db/prisma.ts';
import type { ColumnCipher } from '../crypto/column-cipher.ts';
import { ensureSystemAccount, post } from '../ledger/ledger.ts';
import { appendEvent } from '../events/outbox.ts';
import { recordCreatedEvent, type RecordedPaymentFacts } from './public-record.ts';
import { openRecordPayload, sealRecordSecrets } from './record-secrets.ts';

// Records a webhook-claimed reference: the recorded payment, its ledger posting
// (external_funding pays the account) and its outbox event, in one database transaction. The
// reference row is locked first and says whether it was recorded already, so a retry or a
// second run writes nothing; the ledger posting is keyed by the record id besides. The record's
// customer reference and metadata are stored encrypted (src/records/record-secrets.ts), and the
// claim's copy of the record is cleared once recorded.

export async function recordClaimedReference(
  prisma: PrismaClient,
  cipher: ColumnCipher,
  input: { merchantId: string; reference: string },
): Promise<{ id: string; replayed: boolean }> {
  const claim = await prisma.paymentReference.findUnique({
    where: { merchantId_reference: { merchantId: input.merchantId, reference: input.reference } },
  });
  if (!claim) throw new Error(`no claimed reference ${input.merchantId}/${input.reference}`);
  if (claim.recordedAt) return { id: claim.recordedPaymentId, replayed: true };
  const payload = openRecordPayload(cipher, claim.payload);
  const funding = await ensureSystemAccount(prisma, 'external_funding', payload.currency);
  return prisma.$transaction(
    async (tx) => {
      const locked = await tx.$queryRaw<{ recorded_at: Date | null }[]>`
        SELECT recorded_at FROM payment_references
         WHERE merchant_id = ${input.merchantId} AND reference = ${input.reference} FOR UPDATE`;
      if (locked[0]?.recorded_at) return { id: claim.recordedPaymentId, replayed: true };
      const paidAt = new Date(payload.paidAt);
      await tx.$queryRaw`SELECT recorded_payments_ensure_partitions(${paidAt}::timestamptz, ${paidAt}::timestamptz)`;
      const amount = BigInt(payload.amount);
      const { transactionId } = await post(tx, {
        kind: 'payment_record',
        reference: claim.recordedPaymentId,
        idempotencyKey: `payment_record:${claim.recordedPaymentId}`,
        entries: [
          { accountId: funding, amount: -amount },
          { accountId: payload.accountId, amount },
        ],
      });
      const record: RecordedPaymentFacts = {
        id: claim.recordedPaymentId,
        referenceNumber: input.reference,
        accountId: payload.accountId,
        accountReference: payload.accountReference,
        customerReference: payload.customerReference,
        amount,
        currency: payload.currency,
        paidAt,
        channel: payload.channel,
        metadata: payload.metadata,
        source: 'webhook',
        transactionId,
        createdAt: new Date(),
      };
      const sealed = sealRecordSecrets(cipher, record);
      await tx.recordedPayment.create({
        data: {
          id: record.id,
          merchantId: input.merchantId,
          accountId: record.accountId,
          referenceNumber: record.referenceNumber,
          accountReference: record.accountReference,
          customerReference: sealed.customerReference,
          amount,
          currency: record.currency,
          paidAt,
          channel: record.channel,
          metadata: sealed.metadata ?? undefined,
          source: 'webhook',
          transactionId,
          createdAt: record.createdAt,
        },
      });
      await appendEvent(tx, cipher, recordCreatedEvent(input.merchantId, record));
      await tx.paymentReference.update({
        where: { merchantId_reference: { merchantId: input.merchantId, reference: input.reference } },
        data: { recordedAt: record.createdAt, payload: Prisma.DbNull },
      });
      return { id: record.id, replayed: false };
    },
    { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 },
  );
}
