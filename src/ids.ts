import { randomBytes } from 'node:crypto';

// Prefixed, random, URL-safe ids ("acct_3fZ…"): the prefix names the resource in logs and
// support tickets, the 128 random bits make ids unguessable across merchants.

const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const idLength = 22;

export type IdPrefix =
  'mer' | 'acct' | 'txn' | 'ent' | 'hold' | 'dep' | 'pev' | 'evt' | 'whev' | 'we' | 'wd' | 'wda' | 'whsec' | 'sk_test';

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

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomToken(idLength)}`;
}
