import type { PrismaClient } from '../src/db/prisma.ts';
import { captureHold, placeHold, releaseHold } from '../src/ledger/ledger.ts';
import { appendEvent } from '../src/events/outbox.ts';
import { presentTransfer, type TransferFacts } from '../src/transfers/public-transfer.ts';
import type { Db } from '../src/db/prisma.ts';
import { PaymentsError } from '../src/domain/errors.ts';
import { defaultTransferSettings } from '../src/domain/transfer-settings.ts';
import type { ColumnCipher } from '../src/crypto/column-cipher.ts';
import { openTransferDescription, sealTransferDescription } from '../src/transfers/transfer-description.ts';

export interface TransferInput {
  transferId: string;
  merchantId: string;
  fromAccountId: string;
  toAccountId: string;
  amount: bigint;
  currency: string;
  description: string | null;
}

export interface TransferView extends TransferInput {
  status: 'pending' | 'succeeded' | 'failed';
  failureCode: string | null;
  failureMessage: string | null;
  transactionId: string | null;
  createdAt: string;
}

const transactionOptions = { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 } as const;

/** A `transfers` row: the public transfer's facts, its merchant, and a stored instant. */
type TransferRow = TransferFacts & { merchantId: string; createdAt: Date };

function view(row: TransferRow): TransferView {
  return {
    transferId: row.id,
    merchantId: row.merchantId,
    fromAccountId: row.fromAccountId,
    toAccountId: row.toAccountId,
    amount: row.amount,
    currency: row.currency,
    description: row.description,
    status: row.status as TransferView['status'],
    failureCode: row.failureCode,
    failureMessage: row.failureMessage,
    transactionId: row.transactionId,
    createdAt: row.createdAt.toISOString(),
  };
}

function announce(db: Db, cipher: ColumnCipher, row: TransferRow) {
  return appendEvent(db, cipher, {
    merchantId: row.merchantId,
    type: `transfer.${row.status}`,
    resourceId: row.id,
    data: presentTransfer(row),
    sourceKey: `transfer:${row.id}:${row.status}`,
  });
}

export function createTransferActivities(prisma: PrismaClient, cipher: ColumnCipher) {
  /** The row to write: its description sealed (rows read back are opened before any use). */
  const record = (input: TransferInput) => ({
    id: input.transferId,
    merchantId: input.merchantId,
    fromAccountId: input.fromAccountId,
    toAccountId: input.toAccountId,
    amount: input.amount,
    currency: input.currency,
    description: sealTransferDescription(cipher, input.description),
  });
  const opened = (row: TransferRow): TransferRow => openTransferDescription(cipher, row);

  return {
    /**
     * Records the transfer as pending and reserves its amount on the source account, atomically.
     * The hold expires after `holdExpiryMs` (inputs of transfers started before expiries
     * existed carry none: the default applies).
     */
    async holdTransferFunds(input: TransferInput & { holdExpiryMs?: number }): Promise<void> {
      const expiresAt = new Date(Date.now() + (input.holdExpiryMs ?? defaultTransferSettings.holdExpiryMs));
      await prisma.$transaction(async (tx) => {
        await tx.transfer.createMany({ data: [{ ...record(input), status: 'pending' }], skipDuplicates: true });
        await placeHold(tx, {
          accountId: input.fromAccountId,
          amount: input.amount,
          reference: input.transferId,
          expiresAt,
        });
      }, transactionOptions);
    },

    /**
     * Compensation: gives the reserved amount back. Idempotent, and a no-op when nothing is held
     * any more: no hold was placed, the sweep expired it, or a capture whose answer was lost
     * took it (failTransfer then keeps the transfer succeeded).
     */
    async releaseTransferFunds(transferId: string): Promise<void> {
      try {
        await releaseHold(prisma, transferId);
      } catch (error) {
        if (error instanceof PaymentsError && ['hold_unexpected_state', 'resource_missing'].includes(error.code))
          return;
        throw error;
      }
    },

    /** Moves the held amount to the destination and marks the transfer succeeded, atomically. */
    async completeTransfer(input: TransferInput & { ledgerKey: string }): Promise<TransferView> {
      const row = await prisma.$transaction(async (tx) => {
        const { transactionId } = await captureHold(tx, input.transferId, input.amount, {
          kind: 'transfer',
          idempotencyKey: input.ledgerKey,
          entries: [
            { accountId: input.fromAccountId, amount: -input.amount },
            { accountId: input.toAccountId, amount: input.amount },
          ],
        });
        const updated = opened(
          await tx.transfer.update({
            where: { id: input.transferId },
            data: { status: 'succeeded', transactionId, updatedAt: new Date() },
          }),
        );
        await announce(tx, cipher, updated);
        return updated;
      }, transactionOptions);
      return view(row);
    },

    /**
     * Records why the transfer failed; runs after any compensation. A transfer already
     * succeeded stays so: its capture committed although the activity reported a failure (an
     * answer lost, then retries exhausted), and that money has moved.
     */
    async failTransfer(input: TransferInput & { failureCode: string; failureMessage: string }): Promise<TransferView> {
      const failure = { status: 'failed', failureCode: input.failureCode, failureMessage: input.failureMessage };
      const row = await prisma.$transaction(async (tx) => {
        // The UPDATE locks the row and re-checks its status, so a late capture cannot slip between.
        await tx.transfer.updateMany({
          where: { id: input.transferId, status: { not: 'succeeded' } },
          data: { ...failure, updatedAt: new Date() },
        });
        const found = await tx.transfer.findUnique({ where: { id: input.transferId } });
        const existing = found && opened(found);
        if (existing?.status === 'succeeded') return existing;
        const failed = existing ?? opened(await tx.transfer.create({ data: { ...record(input), ...failure } }));
        await announce(tx, cipher, failed);
        return failed;
      }, transactionOptions);
      return view(row);
    },
  };
}
