import { randomBytes } from 'node:crypto';

// Prefixed, time-ordered, URL-safe ids ("acct_0ZkQ3fZ…"): the prefix names the resource in logs
// and support tickets; then 8 base62 characters of the creation time in milliseconds, so that
// new ids land at the right edge of the indexes keyed by them (pages already in memory) instead
// of on a random page each; then 14 random characters (about 83 bits), which keep ids
// unguessable across merchants. PostgreSQL makes the same form (new_id, migration
// 20261206160000); an integration test holds the two time parts equal.

const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const timeLength = 8;
const randomLength = 14;

export type IdPrefix =
  | 'mer'
  | 'ak'
  | 'acct'
  | 'txn'
  | 'ent'
  | 'hold'
  | 'dep'
  | 'pev'
  | 'evt'
  | 'whev'
  | 'we'
  | 'wd'
  | 'wda'
  | 'whsec'
  | 'sk_test';

export function randomToken(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
  for (const byte of bytes) {
    if (byte < 248) out += alphabet[byte % 62];
    if (out.length === length) return out;
  }
  return out + randomToken(length - out.length);
}

/** The milliseconds since 1970 as 8 base62 digits, most significant first (good to the year 8000). */
export function idTimePart(epochMs: number): string {
  let rest = Math.floor(epochMs);
  let out = '';
  for (let i = 0; i < timeLength; i++) {
    out = alphabet[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/** The 22 characters after an id's prefix: time part, then random part. */
export function timeOrderedToken(): string {
  return idTimePart(Date.now()) + randomToken(randomLength);
}

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${timeOrderedToken()}`;
}
