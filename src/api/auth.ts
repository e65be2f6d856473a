import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { PrismaClient } from '../db/prisma.ts';
import { PaymentsError } from '../domain/errors.ts';
import { apiKeyStatus, hashApiKey } from '../api-keys/api-keys.ts';
import { recordKeyUse } from '../api-keys/last-used.ts';

// API keys are shown once and stored only as SHA-256 hashes (src/api-keys/), in api_keys: a
// merchant may have several, each usable until revoked or past the grace window of a roll.

export { hashApiKey };

/** The key of an `Authorization: Bearer <key>` header, however the scheme is spelled. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return (header ? /^Bearer\s+(\S+)$/i.exec(header) : null)?.[1];
}

function bearerToken(request: FastifyRequest): string {
  const key = presentedKey(request);
  if (!key) throw new PaymentsError('api_key_invalid', 'Provide your API key as "Authorization: Bearer <key>".');
  return key;
}

const wrongScope = (needs: string) =>
  new PaymentsError('permission_denied', `This API key cannot use this route; it needs ${needs}.`);

function isAdminKey(adminApiKey: string | undefined, key: string): boolean {
  // Hashing first gives equal-length buffers, so the comparison time says nothing about the key.
  return (
    adminApiKey !== undefined && timingSafeEqual(Buffer.from(hashApiKey(key)), Buffer.from(hashApiKey(adminApiKey)))
  );
}

const storedKeyFields = { id: true, merchantId: true, expiresAt: true, revokedAt: true, lastUsedAt: true } as const;

/** The stored key with this secret, if any, whatever its status. */
async function storedKey(prisma: PrismaClient, key: string) {
  return prisma.apiKey.findUnique({ where: { keyHash: hashApiKey(key) }, select: storedKeyFields });
}

/** Whose key, and which one. */
export interface MerchantKey {
  merchantId: string;
  apiKeyId: string;
}

/** A merchant's active key opens its own routes; the admin key is known but refused here (403). */
export async function authenticateMerchant(
  prisma: PrismaClient,
  adminApiKey: string | undefined,
  request: FastifyRequest,
): Promise<MerchantKey> {
  const key = bearerToken(request);
  const stored = await storedKey(prisma, key);
  if (stored) {
    const now = new Date();
    const status = apiKeyStatus(stored, now);
    // The one who holds the secret learns why it stopped working; nobody else can ask.
    if (status !== 'active') throw new PaymentsError('api_key_invalid', `This API key is ${status}.`);
    await recordKeyUse(prisma, stored.id, stored.lastUsedAt, now);
    return { merchantId: stored.merchantId, apiKeyId: stored.id };
  }
  if (isAdminKey(adminApiKey, key)) throw wrongScope('a merchant API key');
  throw new PaymentsError('api_key_invalid', 'Invalid API key provided.');
}

/** The admin key opens the platform's routes; a merchant's key is known but refused here (403). */
export async function authenticateAdmin(
  prisma: PrismaClient,
  adminApiKey: string | undefined,
  request: FastifyRequest,
): Promise<void> {
  const key = bearerToken(request);
  if (isAdminKey(adminApiKey, key)) return;
  const stored = await storedKey(prisma, key);
  if (stored && apiKeyStatus(stored, new Date()) === 'active') throw wrongScope('the admin API key');
  throw new PaymentsError('api_key_invalid', 'This route needs the admin API key.');
}
