import type { PrismaClient } from '../src/db/prisma.ts';
import { ensureSystemAccount, post } from '../src/ledger/ledger.ts';
import { PaymentsError } from '../src/domain/errors.ts';
import { appendEvent } from '../src/events/outbox.ts';
import { presentDeposit } from '../src/deposits/public-deposit.ts';
import type { ColumnCipher } from '../src/crypto/column-cipher.ts';

export interface DepositInput {
  depositId: string;
  merchantId: string;
  accountId: string;
  amount: bigint;
  reference: string;
}

export interface DepositView {
  id: string;
  accountId: string;
  amount: bigint;
  currency: string;
  reference: string;
  /** `pending` only in the API's answer while the workflow still runs. */
  status: 'pending' | 'succeeded';
  transactionId: string | null;
  createdAt: string;
}

export function createDepositActivities(prisma: PrismaClient, cipher: ColumnCipher) {
  return {
    /**
     * Credits the account from external_funding and records the deposit, in one database
     * transaction. Keyed by `ledgerKey` (workflow id + step): a retry returns the first result.
     */
    async recordDeposit(input: DepositInput & { ledgerKey: string }): Promise<DepositView> {
      const account = await prisma.account.findFirst({
        where: { id: input.accountId, merchantId: input.merchantId },
        select: { currency: true, type: true },
      });
      if (!account) throw new PaymentsError('resource_missing', 'No such account.', 'account');
      const funding = await ensureSystemAccount(prisma, 'external_funding', account.currency);
      const deposit = await prisma.$transaction(
        async (tx) => {
          const { transactionId } = await post(tx, {
            kind: 'deposit',
            reference: input.depositId,
            idempotencyKey: input.ledgerKey,
            entries: [
              { accountId: funding, amount: -input.amount },
              { accountId: input.accountId, amount: input.amount },
            ],
          });
          await tx.deposit.createMany({
            data: [
              {
                id: input.depositId,
                merchantId: input.merchantId,
                accountId: input.accountId,
                amount: input.amount,
                currency: account.currency,
                reference: input.reference,
                status: 'succeeded',
                transactionId,
              },
            ],
            skipDuplicates: true,
          });
          const row = await tx.deposit.findUniqueOrThrow({ where: { transactionId } });
          await appendEvent(tx, cipher, {
            merchantId: row.merchantId,
            type: 'deposit.succeeded',
            resourceId: row.id,
            data: presentDeposit(row),
            sourceKey: `deposit:${row.id}:succeeded`,
          });
          return row;
        },
        { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 },
      );
      return {
        id: deposit.id,
        accountId: deposit.accountId,
        amount: deposit.amount,
        currency: deposit.currency,
        reference: deposit.reference,
        status: 'succeeded',
        transactionId: deposit.transactionId,
        createdAt: deposit.createdAt.toISOString(),
      };
    },
  };
}
