import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

// AES-256-GCM keys with ids, read from ENCRYPTION_KEYS: `id:base64key,id:base64key,...`.
// The first key is the current one: everything new is encrypted with it. Every listed key
// decrypts, so rotating is: put a new key first, keep the old ones until `keys:rotate` has
// re-encrypted what they protect (README, "Encryption"), then drop them.

const algorithm = 'aes-256-gcm';
/** AES-256: 32-byte keys. */
export const keyLengthBytes = 32;
/** GCM's standard nonce length; random per message (2^32 messages per key stay far below the collision bound). */
const ivLengthBytes = 12;
const tagLengthBytes = 16;
/** Ids travel in payload metadata and column values: short, and free of the separators used there. */
const keyIdPattern = /^[A-Za-z0-9_-]{1,32}$/;

export interface Ciphertext {
  keyId: string;
  /** iv ‖ ciphertext ‖ tag. */
  data: Uint8Array;
}

export class Keyring {
  readonly currentKeyId: string;
  readonly #keys: ReadonlyMap<string, Buffer>;
  /** Derived keys by key id and purpose; a handful per process. */
  readonly #derivedKeys = new Map<string, Buffer>();

  private constructor(keys: ReadonlyMap<string, Buffer>, currentKeyId: string) {
    this.#keys = keys;
    this.currentKeyId = currentKeyId;
  }

  /** From `id:base64key,...`; throws, naming the problem (never a key), on anything else. */
  static parse(text: string, settingName = 'ENCRYPTION_KEYS'): Keyring {
    const entries = text
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    if (entries.length === 0) throw new Error(`${settingName} lists no key`);
    const keys = new Map<string, Buffer>();
    for (const entry of entries) {
      const separator = entry.indexOf(':');
      const id = separator < 0 ? '' : entry.slice(0, separator);
      if (!keyIdPattern.test(id)) {
        throw new Error(`${settingName}: each entry is <id>:<base64 key>, ids 1-32 of A-Z a-z 0-9 _ -`);
      }
      const encoded = entry.slice(separator + 1);
      const key = Buffer.from(encoded, 'base64');
      if (key.length !== keyLengthBytes || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
        throw new Error(`${settingName}: key ${id} must be ${keyLengthBytes} bytes, base64-encoded`);
      }
      if (keys.has(id)) throw new Error(`${settingName}: key id ${id} appears twice`);
      keys.set(id, key);
    }
    return new Keyring(keys, entries[0]!.slice(0, entries[0]!.indexOf(':')));
  }

  /** A new random key entry `id:base64key`, as ENCRYPTION_KEYS lists them. */
  static generateEntry(id: string): string {
    if (!keyIdPattern.test(id)) throw new Error(`key id ${JSON.stringify(id)} is not 1-32 of A-Z a-z 0-9 _ -`);
    return `${id}:${randomBytes(keyLengthBytes).toString('base64')}`;
  }

  has(keyId: string): boolean {
    return this.#keys.has(keyId);
  }

  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /**
   * Encrypts with the current key. `context` is authenticated, not encrypted: a ciphertext moved
   * to another context (another column, another key id's label) fails to decrypt.
   */
  encrypt(plaintext: Uint8Array, context: string): Ciphertext {
    const key = this.#keys.get(this.currentKeyId)!;
    const iv = randomBytes(ivLengthBytes);
    const cipher = createCipheriv(algorithm, key, iv, { authTagLength: tagLengthBytes });
    cipher.setAAD(aad(this.currentKeyId, context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { keyId: this.currentKeyId, data: Buffer.concat([iv, body, cipher.getAuthTag()]) };
  }

  /**
   * A keyed hash of `value` under the named key (the current one by default), for finding rows
   * by a value stored encrypted (a blind index). The HMAC key is derived from the encryption key
   * with HKDF for this `context`, so neither key is used for two purposes.
   */
  blindIndex(value: string, context: string, keyId = this.currentKeyId): string {
    const indexKey = this.derive(`blind-index\u0000${context}`, keyId);
    return `${keyId}:${createHmac('sha256', indexKey).update(value, 'utf8').digest('base64url')}`;
  }

  /**
   * A key for one purpose (HKDF-SHA256 of the named key, `purpose` as its info), so that no key
   * serves two purposes and a derived key given away (to PostgreSQL) opens nothing else.
   */
  derive(purpose: string, keyId = this.currentKeyId): Buffer {
    const key = this.#keys.get(keyId);
    if (!key) throw new Error(`encryption key ${keyId} is not in ENCRYPTION_KEYS`);
    const cacheKey = `${keyId}\u0000${purpose}`;
    let derived = this.#derivedKeys.get(cacheKey);
    if (!derived) {
      derived = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), purpose, keyLengthBytes));
      this.#derivedKeys.set(cacheKey, derived);
    }
    return derived;
  }

  /** Decrypts with the named key; throws when the key is unknown or the data was altered. */
  decrypt(ciphertext: Ciphertext, context: string): Buffer {
    const key = this.#keys.get(ciphertext.keyId);
    if (!key) throw new Error(`encryption key ${ciphertext.keyId} is not in ENCRYPTION_KEYS`);
    const data = Buffer.from(ciphertext.data.buffer, ciphertext.data.byteOffset, ciphertext.data.byteLength);
    if (data.length < ivLengthBytes + tagLengthBytes) throw new Error('ciphertext too short');
    const decipher = createDecipheriv(algorithm, key, data.subarray(0, ivLengthBytes), {
      authTagLength: tagLengthBytes,
    });
    decipher.setAAD(aad(ciphertext.keyId, context));
    decipher.setAuthTag(data.subarray(data.length - tagLengthBytes));
    return Buffer.concat([
      decipher.update(data.subarray(ivLengthBytes, data.length - tagLengthBytes)),
      decipher.final(),
    ]);
  }
}

function aad(keyId: string, context: string): Buffer {
  return Buffer.from(`${context}\u0000${keyId}`, 'utf8');
}
