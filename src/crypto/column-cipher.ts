import type { Keyring } from './keyring.ts';
import { openSqlSealed, sqlSealPrefix } from './sql-seal.ts';

// Sensitive columns are stored encrypted with the keyring, as text:
//   enc:v1:<key id>:<base64 of iv ‖ ciphertext ‖ tag>
// (a jsonb column holds that text as a JSON string). The column's name is authenticated with
// each value, so a ciphertext copied into another column does not decrypt there. Values
// written before encryption are plaintext and read as they are: `npm run keys:rotate`
// (src/crypto/rotate-columns.ts) encrypts them, and re-encrypts older keys' values.
// PostgreSQL seals the import's values itself, in another format (enc:v2:, src/crypto/sql-seal.ts);
// both read alike here.

export const sealedPrefix = 'enc:v1:';
/** Both as long: sealedKeyId and open skip either the same way. */
const sealedPrefixes = [sealedPrefix, sqlSealPrefix] as const;

/** Every encrypted column, as `table.column`, and the encrypted fields of events.data. */
export const sealedColumns = [
  'payments.customer',
  'payments.description',
  'payments.metadata',
  'webhook_endpoints.secret',
  'webhook_endpoints.previous_secret',
  // Stored answers replayed for a retried Idempotency-Key: they repeat the fields above (a new
  // endpoint's secret, a payment's customer and metadata).
  'idempotency_keys.response_body',
  'accounts.description',
  'accounts.metadata',
  'recorded_payments.customer_reference',
  'recorded_payments.metadata',
  // A recording webhook's record until its workflow has recorded it.
  'payment_references.payload',
  // The merchant's free text on a transfer and on a payout.
  'transfers.description',
  'payouts.description',
  // The outbox repeats the resources above (src/events/event-secrets.ts).
  'events.data.customer',
  'events.data.customer_reference',
  'events.data.description',
  'events.data.metadata',
] as const;
export type SealedColumn = (typeof sealedColumns)[number];

export function isSealed(stored: string): boolean {
  return sealedPrefixes.some((prefix) => stored.startsWith(prefix));
}

/** The key id a sealed value names; undefined for plaintext. */
export function sealedKeyId(stored: string): string | undefined {
  if (!isSealed(stored)) return undefined;
  const end = stored.indexOf(':', sealedPrefix.length);
  return end < 0 ? undefined : stored.slice(sealedPrefix.length, end);
}

/** How every value sealed under `keyId` begins, whichever the format. */
export function sealedPrefixesOf(keyId: string): string[] {
  return sealedPrefixes.map((prefix) => `${prefix}${keyId}:`);
}

export class ColumnCipher {
  readonly keyring: Keyring;

  constructor(keyring: Keyring) {
    this.keyring = keyring;
  }

  seal(column: SealedColumn, plaintext: string): string {
    const { keyId, data } = this.keyring.encrypt(Buffer.from(plaintext, 'utf8'), column);
    return `${sealedPrefix}${keyId}:${Buffer.from(data).toString('base64')}`;
  }

  sealNullable(column: SealedColumn, plaintext: string | null): string | null {
    return plaintext === null ? null : this.seal(column, plaintext);
  }

  /** A sealed value decrypted; a plaintext one (written before encryption) as it is. */
  open(column: SealedColumn, stored: string): string {
    if (!isSealed(stored)) return stored;
    const keyId = sealedKeyId(stored);
    if (keyId === undefined) throw new Error(`${column}: malformed encrypted value`);
    const data = Buffer.from(stored.slice(sealedPrefix.length + keyId.length + 1), 'base64');
    const plaintext = stored.startsWith(sqlSealPrefix)
      ? openSqlSealed(this.keyring, { keyId, data }, column)
      : this.keyring.decrypt({ keyId, data }, column);
    return plaintext.toString('utf8');
  }

  openNullable(column: SealedColumn, stored: string | null): string | null {
    return stored === null ? null : this.open(column, stored);
  }

  /** A JSON value (metadata) as the JSON string a jsonb column keeps. */
  sealJson(column: SealedColumn, value: unknown): string | null {
    return value === null || value === undefined ? null : this.seal(column, JSON.stringify(value));
  }

  /** What sealJson stored, or a plain JSON value written before encryption. */
  openJson(column: SealedColumn, stored: unknown): unknown {
    if (typeof stored !== 'string' || !isSealed(stored)) return stored ?? null;
    return JSON.parse(this.open(column, stored)) as unknown;
  }

  /** Whether `stored` is plaintext, or sealed with another key than the current one. */
  needsRotation(stored: string): boolean {
    return sealedKeyId(stored) !== this.keyring.currentKeyId;
  }

  /** The blind index a row is written with (current key). */
  index(column: SealedColumn, plaintext: string): string {
    return this.keyring.blindIndex(plaintext, column);
  }

  /** Every index the value may have been written with: one per key, so lookups survive a rotation. */
  indexes(column: SealedColumn, plaintext: string): string[] {
    return this.keyring.keyIds.map((keyId) => this.keyring.blindIndex(plaintext, column, keyId));
  }
}

const ciphers = new WeakMap<Keyring, ColumnCipher>();

/** One cipher per keyring (its derived index keys are cached inside). */
export function cipherFor(keyring: Keyring): ColumnCipher {
  let cipher = ciphers.get(keyring);
  if (!cipher) {
    cipher = new ColumnCipher(keyring);
    ciphers.set(keyring, cipher);
  }
  return cipher;
}
