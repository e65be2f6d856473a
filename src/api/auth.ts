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

export async function authenticateMerchant(prisma: PrismaClient, request: FastifyRequest): Promise<string> {
  const key = bearerToken(request);
  const merchant = await prisma.merchant.findUnique({ where: { apiKeyHash: hashApiKey(key) }, select: { id: true } });
  if (!merchant) throw new PaymentsError('api_key_invalid', 'Invalid API key provided.');
  return merchant.id;
}

export function authenticateAdmin(adminApiKey: string | undefined, request: FastifyRequest): void {
  const key = bearerToken(request);
  // Hashing first gives equal-length buffers, so the comparison time says nothing about the key.
  const ok =
    adminApiKey !== undefined && timingSafeEqual(Buffer.from(hashApiKey(key)), Buffer.from(hashApiKey(adminApiKey)));
  if (!ok) throw new PaymentsError('api_key_invalid', 'This route needs the admin API key.');
}
