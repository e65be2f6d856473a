import type { Db, Prisma, PrismaClient } from '../db/prisma.ts';
import { PaymentsError } from '../domain/errors.ts';
import { appendEvent } from '../events/outbox.ts';
import type { ColumnCipher } from '../crypto/column-cipher.ts';
import { newId } from '../ids.ts';
import {
  apiKeyPrefixLength,
  apiKeyStatus,
  hashApiKey,
  maxActiveApiKeysPerMerchant,
  newApiKeySecret,
  presentApiKey,
  type ApiKeyRow,
  type PublicApiKey,
} from './api-keys.ts';

// Creating, rolling and revoking a merchant's keys. Each change runs in one transaction with its
// audit event (the outbox), under a per-merchant advisory lock, so two concurrent changes cannot
// both see room under the cap or both revoke "the other" key and leave the merchant with none.
//
// The rule that keeps a merchant reachable: at least one active key without an expiry always
// remains. Creating adds one; rolling replaces one with a new one (the old gets a grace window);
// revoking is refused for the last one. Revoking the very key that authenticates the request is
// allowed (as at Stripe) as long as another such key remains.

const keyTransactionOptions = { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 } as const;

type Tx = Prisma.TransactionClient;

async function lockMerchantKeys(tx: Tx, merchantId: string): Promise<void> {
  // Transaction-scoped: no row is locked, and it ends with the transaction.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`api_keys:${merchantId}`}, 0))`;
}

const active = (now: Date): Prisma.ApiKeyWhereInput => ({
  revokedAt: null,
  OR: [{ expiresAt: null }, { expiresAt: { gt: now } }],
});

async function countActive(tx: Tx, merchantId: string, now: Date): Promise<number> {
  return tx.apiKey.count({ where: { merchantId, ...active(now) } });
}

function refuseOverCap(activeAfter: number): void {
  if (activeAfter > maxActiveApiKeysPerMerchant) {
    throw new PaymentsError(
      'api_key_limit_reached',
      `A merchant can have at most ${maxActiveApiKeysPerMerchant} active API keys; revoke one before adding another.`,
    );
  }
}

/** The key of this merchant; 404 for unknown ids and other merchants' keys alike. */
export async function ownApiKey(db: Db, merchantId: string, id: string): Promise<ApiKeyRow> {
  const key = await db.apiKey.findFirst({ where: { id, merchantId } });
  if (!key) throw new PaymentsError('resource_missing', `No such API key: '${id}'.`, 'id');
  return key;
}

/** Writes a new key; the secret leaves this function once and is never stored. */
export async function insertApiKey(
  db: Db,
  merchantId: string,
  name: string | null,
): Promise<{ row: ApiKeyRow; secret: string }> {
  const secret = newApiKeySecret();
  const row = await db.apiKey.create({
    data: {
      id: newId('ak'),
      merchantId,
      name,
      keyHash: hashApiKey(secret),
      keyPrefix: secret.slice(0, apiKeyPrefixLength),
    },
  });
  return { row, secret };
}

async function announce(tx: Tx, cipher: ColumnCipher, type: string, key: ApiKeyRow, now: Date): Promise<void> {
  await appendEvent(tx, cipher, {
    merchantId: key.merchantId,
    type,
    resourceId: key.id,
    data: presentApiKey(key, now),
    // Each change happens once per key: a key is created, rolled and revoked at most once.
    sourceKey: `api_key:${key.id}:${type}`,
  });
}

export async function createApiKey(
  prisma: PrismaClient,
  cipher: ColumnCipher,
  merchantId: string,
  name: string | null,
) {
  return prisma.$transaction(async (tx): Promise<PublicApiKey> => {
    await lockMerchantKeys(tx, merchantId);
    const now = new Date();
    refuseOverCap((await countActive(tx, merchantId, now)) + 1);
    const { row, secret } = await insertApiKey(tx, merchantId, name);
    await announce(tx, cipher, 'api_key.created', row, now);
    return presentApiKey(row, now, secret);
  }, keyTransactionOptions);
}

/**
 * A new key in place of an active one without an expiry, which stays usable for
 * `expiresInSeconds` (0: stops at once). Answers the new key, with its secret.
 */
export async function rollApiKey(
  prisma: PrismaClient,
  cipher: ColumnCipher,
  merchantId: string,
  id: string,
  expiresInSeconds: number,
) {
  return prisma.$transaction(async (tx): Promise<PublicApiKey> => {
    await lockMerchantKeys(tx, merchantId);
    const now = new Date();
    const old = await ownApiKey(tx, merchantId, id);
    const status = apiKeyStatus(old, now);
    if (status !== 'active' || old.expiresAt) {
      const why = status === 'active' ? 'already rolled; it expires at its expires_at' : status;
      throw new PaymentsError('api_key_unexpected_state', `This API key cannot be rolled: it is ${why}.`, 'id');
    }
    const oldStaysActive = expiresInSeconds > 0;
    refuseOverCap((await countActive(tx, merchantId, now)) + (oldStaysActive ? 1 : 0));
    const { row, secret } = await insertApiKey(tx, merchantId, old.name);
    const rolled = await tx.apiKey.update({
      where: { id: old.id },
      data: { rolledToId: row.id, expiresAt: new Date(now.getTime() + expiresInSeconds * 1_000) },
    });
    await announce(tx, cipher, 'api_key.created', row, now);
    await announce(tx, cipher, 'api_key.rolled', rolled, now);
    return presentApiKey(row, now, secret);
  }, keyTransactionOptions);
}

/** Revokes a key for good; revoking a revoked key answers it unchanged. */
export async function revokeApiKey(prisma: PrismaClient, cipher: ColumnCipher, merchantId: string, id: string) {
  return prisma.$transaction(async (tx): Promise<PublicApiKey> => {
    await lockMerchantKeys(tx, merchantId);
    const now = new Date();
    const key = await ownApiKey(tx, merchantId, id);
    if (key.revokedAt) return presentApiKey(key, now);
    if (apiKeyStatus(key, now) === 'active' && !key.expiresAt) {
      const others = await tx.apiKey.count({
        where: { merchantId, revokedAt: null, expiresAt: null, id: { not: key.id } },
      });
      if (others === 0) {
        throw new PaymentsError(
          'api_key_unexpected_state',
          "This is the merchant's last active API key without an expiry: create or roll one before revoking it.",
          'id',
        );
      }
    }
    const revoked = await tx.apiKey.update({ where: { id: key.id }, data: { revokedAt: now } });
    await announce(tx, cipher, 'api_key.revoked', revoked, now);
    return presentApiKey(revoked, now);
  }, keyTransactionOptions);
}
