import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/prisma.ts';
import type { Ciphertext, Keyring } from './keyring.ts';

// Values PostgreSQL encrypts itself. The staging import records its rows in SQL alone
// (record_staged_batch, a million in about a minute and a half); sending every row through Node
// to be encrypted would add a round trip of all its data per batch. pgcrypto has no AES-GCM, so
// these values are encrypt-then-MAC, as text:
//   enc:v2:<key id>:<base64 of ciphertext ‖ tag>
//   ciphertext: AES-256-CBC, zero IV, PKCS#7 padding, of 16 random bytes ‖ the UTF-8 plaintext
//     (the random first block does the IV's work, and keeps the SQL a single expression)
//   tag: the first 16 bytes of HMAC-SHA256 of context ‖ 0x00 ‖ key id ‖ 0x00 ‖ ciphertext
// The two keys are derived (HKDF) from a keyring key for this use alone: a transaction that seals
// hands PostgreSQL those (shareSqlSealKeys), never the keyring's key, and they open no v1 value.
// Only SQL writes v2; Node reads it (ColumnCipher.open), and `keys:rotate` rewrites the values
// of older keys as v1.

export const sqlSealPrefix = 'enc:v2:';
/** The setting record_staged_batch reads the keys from: `<key id>:<base64 key>:<base64 MAC key>`. */
export const sqlSealSetting = 'payments.sql_seal_keys';

const blockBytes = 16;
const tagBytes = 16;
const zeroIv = Buffer.alloc(blockBytes);

interface SqlSealKeys {
  keyId: string;
  encryptionKey: Buffer;
  macKey: Buffer;
}

function sqlSealKeys(keyring: Keyring, keyId = keyring.currentKeyId): SqlSealKeys {
  return {
    keyId,
    encryptionKey: keyring.derive('sql-seal\u0000encryption', keyId),
    macKey: keyring.derive('sql-seal\u0000mac', keyId),
  };
}

/** The value of sqlSealSetting for the current key. */
export function sqlSealSettingValue(keyring: Keyring): string {
  const keys = sqlSealKeys(keyring);
  return `${keys.keyId}:${keys.encryptionKey.toString('base64')}:${keys.macKey.toString('base64')}`;
}

/**
 * Lets the rest of the caller's transaction seal (set_config(…, true) ends with it). A statement
 * of its own, so the keys are a parameter of a sub-millisecond statement only, not of the long
 * one that seals, which `log_min_duration_statement` would log with its parameters.
 */
export async function shareSqlSealKeys(db: Db, keyring: Keyring): Promise<void> {
  await db.$queryRaw`SELECT set_config(${sqlSealSetting}, ${sqlSealSettingValue(keyring)}, true)`;
}

function tagOf(macKey: Buffer, context: string, keyId: string, ciphertext: Buffer): Buffer {
  return createHmac('sha256', macKey)
    .update(`${context}\u0000${keyId}\u0000`, 'utf8')
    .update(ciphertext)
    .digest()
    .subarray(0, tagBytes);
}

/** Decrypts `ciphertext.data` (ciphertext ‖ tag); throws when the key is unknown or the data was altered. */
export function openSqlSealed(keyring: Keyring, ciphertext: Ciphertext, context: string): Buffer {
  const { encryptionKey, macKey, keyId } = sqlSealKeys(keyring, ciphertext.keyId);
  const data = Buffer.from(ciphertext.data.buffer, ciphertext.data.byteOffset, ciphertext.data.byteLength);
  const body = data.subarray(0, data.length - tagBytes);
  if (body.length < 2 * blockBytes || body.length % blockBytes !== 0) throw new Error('malformed v2 ciphertext');
  if (!timingSafeEqual(data.subarray(body.length), tagOf(macKey, context, keyId, body))) {
    throw new Error('v2 ciphertext failed authentication');
  }
  const decipher = createDecipheriv('aes-256-cbc', encryptionKey, zeroIv);
  return Buffer.concat([decipher.update(body), decipher.final()]).subarray(blockBytes);
}

/** What PostgreSQL's sealing makes of `plaintext`, made in Node: for tests of the format. */
export function sealLikeSql(keyring: Keyring, plaintext: Uint8Array, context: string): Ciphertext {
  const { encryptionKey, macKey, keyId } = sqlSealKeys(keyring);
  const cipher = createCipheriv('aes-256-cbc', encryptionKey, zeroIv);
  const body = Buffer.concat([cipher.update(randomBytes(blockBytes)), cipher.update(plaintext), cipher.final()]);
  return { keyId, data: Buffer.concat([body, tagOf(macKey, context, keyId, body)]) };
}
