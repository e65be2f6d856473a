import { createHash } from 'node:crypto';
import { randomToken } from '../ids.ts';

// A merchant's API keys: several at once, each shown once and stored as a hash. A key is
// `active` until revoked or, when a roll gave it a grace window, until that window ends.

/** Keys usable at once per merchant, the old halves of rolls still in their window included. */
export const maxActiveApiKeysPerMerchant = 20;
/** The longest grace window a roll may give the old key: 7 days, in seconds. */
export const maxRollExpirySeconds = 7 * 24 * 60 * 60;
/** The grace window when a roll names none: 24 hours, in seconds. */
export const defaultRollExpirySeconds = 24 * 60 * 60;
export const maxApiKeyNameLength = 100;
/** Characters of the secret kept in clear (`sk_test_` and 4 of its 32 random ones), to tell keys apart. */
export const apiKeyPrefixLength = 12;

export type ApiKeyStatus = 'active' | 'expired' | 'revoked';
export const apiKeyStatuses: readonly ApiKeyStatus[] = ['active', 'expired', 'revoked'];

/** The row as stored (src/generated ApiKey), the fields the API reads. */
export interface ApiKeyRow {
  id: string;
  merchantId: string;
  name: string | null;
  keyPrefix: string;
  rolledToId: string | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  createdAt: Date;
}

// A key is 190 random bits, so a fast hash is enough (no password stretching) and lookups go
// through a unique index on the hash.
export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newApiKeySecret(): string {
  return `sk_test_${randomToken(32)}`;
}

export function apiKeyStatus(key: Pick<ApiKeyRow, 'expiresAt' | 'revokedAt'>, now: Date): ApiKeyStatus {
  if (key.revokedAt) return 'revoked';
  if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

export interface PublicApiKey {
  id: string;
  object: 'api_key';
  name: string | null;
  /** The secret's first characters, never the rest of it. */
  prefix: string;
  status: ApiKeyStatus;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  rolled_to: string | null;
  /** Only in the answers to POST /v1/api_keys and POST /v1/api_keys/:id/roll. */
  secret?: string;
}

/** The one public shape of a key: GET answers it, events carry it; `secret` only where it is made. */
export function presentApiKey(key: ApiKeyRow, now: Date, secret?: string): PublicApiKey {
  return {
    id: key.id,
    object: 'api_key',
    name: key.name,
    prefix: key.keyPrefix,
    status: apiKeyStatus(key, now),
    created_at: key.createdAt.toISOString(),
    expires_at: key.expiresAt?.toISOString() ?? null,
    revoked_at: key.revokedAt?.toISOString() ?? null,
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
    rolled_to: key.rolledToId,
    ...(secret === undefined ? {} : { secret }),
  };
}
