import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '../db/prisma.ts';
import { appendEvent } from '../events/outbox.ts';
import { PaymentsError } from '../domain/errors.ts';
import { mergeMetadata, type Metadata } from '../domain/metadata-limits.ts';
import { presentAccount } from './public-account.ts';
import type { ColumnCipher } from '../crypto/column-cipher.ts';
import { openAccountNotes } from './account-notes.ts';

// An account's description and metadata: the merchant's notes, which the ledger never reads.
// An update is one transaction: the row and its `account.updated` outbox event. The row lock is
// the one the ledger takes to post, so the event shows a balance that was true at its commit.
// Both notes are stored encrypted (src/accounts/account-notes.ts).

export interface AccountDetailsUpdate {
  /** Absent: unchanged; null: removed. */
  description?: string | null | undefined;
  /** Absent: unchanged; merged into the current metadata (src/domain/metadata-limits.ts). */
  metadata?: Metadata | null | undefined;
}

const detailsTransactionOptions = { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 } as const;

/** Updates them, announcing `account.updated`; null when the merchant has no such account. */
export async function updateAccountDetails(
  prisma: PrismaClient,
  cipher: ColumnCipher,
  merchantId: string,
  accountId: string,
  update: AccountDetailsUpdate,
) {
  return prisma.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ metadata: unknown }[]>`
      SELECT metadata FROM accounts WHERE id = ${accountId} AND merchant_id = ${merchantId} FOR UPDATE`;
    const current = locked[0];
    if (!current) return null;
    const data: Prisma.AccountUpdateInput = {};
    if (update.description !== undefined) {
      data.description = cipher.sealNullable('accounts.description', update.description);
    }
    if (update.metadata !== undefined) {
      const opened = cipher.openJson('accounts.metadata', current.metadata) as Metadata | null;
      const merged = mergeMetadata(opened, update.metadata);
      if (!merged.ok) throw new PaymentsError('parameter_invalid', merged.message, 'metadata');
      data.metadata = cipher.sealJson('accounts.metadata', merged.metadata) ?? Prisma.DbNull;
    }
    // updated_at is the ledger's (it moves with the balance): a note leaves it alone.
    const account = openAccountNotes(cipher, await tx.account.update({ where: { id: accountId }, data }));
    await appendEvent(tx, cipher, {
      merchantId,
      type: 'account.updated',
      resourceId: account.id,
      data: presentAccount(account),
      sourceKey: `account:${account.id}:details:${randomUUID()}`,
    });
    return account;
  }, detailsTransactionOptions);
}
