import { inject } from 'vitest';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.ts';
import { createAccount, ensureSystemAccount, post, type AccountType } from '../../src/ledger/ledger.ts';
import { newId } from '../../src/ids.ts';

export function connectPrisma(poolSize = 20): PrismaClient {
  return createPrisma(inject('databaseUrl'), poolSize);
}

export async function openAccount(
  prisma: PrismaClient,
  currency = 'USD',
  type: AccountType = 'customer',
): Promise<string> {
  const account = await createAccount(prisma, { merchantId: null, type, currency });
  return account.id;
}

/** Funds an account from external_funding, the way a deposit does. */
export async function fund(prisma: PrismaClient, accountId: string, amount: bigint, currency = 'USD'): Promise<void> {
  const funding = await ensureSystemAccount(prisma, 'external_funding', currency);
  await post(prisma, {
    kind: 'deposit',
    idempotencyKey: newId('txn'),
    entries: [
      { accountId: funding, amount: -amount },
      { accountId, amount },
    ],
  });
}
