import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { PrismaClient } from '../db/prisma.ts';
import { PaymentsError } from '../domain/errors.ts';
import { randomToken } from '../ids.ts';

// API keys are shown once and stored only as SHA-256 hashes; a key is 128+ random bits, so a
// fast hash is enough (no password stretching needed) and lookups go through a unique index.

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function newApiKey(): string {
  return `sk_test_${randomToken(32)}`;
}

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

async function merchantOfKey(prisma: PrismaClient, key: string): Promise<string | undefined> {
  const merchant = await prisma.merchant.findUnique({ where: { apiKeyHash: hashApiKey(key) }, select: { id: true } });
  return merchant?.id;
}

/** A merchant's key opens its own routes; the admin key is known but refused here (403). */
export async function authenticateMerchant(
  prisma: PrismaClient,
  adminApiKey: string | undefined,
  request: FastifyRequest,
): Promise<string> {
  const key = bearerToken(request);
  const merchantId = await merchantOfKey(prisma, key);
  if (merchantId) return merchantId;
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
  if (await merchantOfKey(prisma, key)) throw wrongScope('the admin API key');
  throw new PaymentsError('api_key_invalid', 'This route needs the admin API key.');
}
