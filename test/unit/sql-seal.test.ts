import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Keyring } from '../../src/crypto/keyring.ts';
import { ColumnCipher, isSealed, sealedKeyId } from '../../src/crypto/column-cipher.ts';
import { openSqlSealed, sealLikeSql, sqlSealSettingValue } from '../../src/crypto/sql-seal.ts';

// The format PostgreSQL writes for the import (enc:v2:, src/crypto/sql-seal.ts), made here by
// sealLikeSql; test/integration/column-encryption.test.ts opens what PostgreSQL itself made.

const entry = Keyring.generateEntry('k1');
const keyring = Keyring.parse(entry);
const cipher = new ColumnCipher(keyring);
const stored = (sealed: { keyId: string; data: Uint8Array }) =>
  `enc:v2:${sealed.keyId}:${Buffer.from(sealed.data).toString('base64')}`;

describe('values sealed in SQL (enc:v2)', () => {
  it('open through the column cipher like v1 values, under their context only', () => {
    const value = stored(sealLikeSql(keyring, Buffer.from('CUS-ü-1'), 'recorded_payments.customer_reference'));
    expect(isSealed(value)).toBe(true);
    expect(sealedKeyId(value)).toBe('k1');
    expect(cipher.needsRotation(value)).toBe(false);
    expect(cipher.open('recorded_payments.customer_reference', value)).toBe('CUS-ü-1');
    expect(() => cipher.open('events.data.customer_reference', value)).toThrow(/failed authentication/);
  });

  it('refuse altered ciphertext, tags and truncated values', () => {
    const sealed = sealLikeSql(keyring, Buffer.from('{"a": 1}'), 'recorded_payments.metadata');
    for (const index of [0, 20, sealed.data.length - 1]) {
      const altered = Buffer.from(sealed.data);
      altered[index]! ^= 1;
      expect(() => openSqlSealed(keyring, { keyId: 'k1', data: altered }, 'recorded_payments.metadata')).toThrow();
    }
    const short = { keyId: 'k1', data: sealed.data.subarray(0, 31) };
    expect(() => openSqlSealed(keyring, short, 'recorded_payments.metadata')).toThrow(/malformed/);
  });

  it('are opened by a keyring that still lists their key, and need rotation there', () => {
    const value = stored(sealLikeSql(keyring, Buffer.from('x'), 'events.data.description'));
    const rotated = new ColumnCipher(Keyring.parse(`${Keyring.generateEntry('k2')},${entry}`));
    expect(rotated.needsRotation(value)).toBe(true);
    expect(rotated.open('events.data.description', value)).toBe('x');
    expect(() =>
      new ColumnCipher(Keyring.parse(Keyring.generateEntry('k3'))).open('events.data.description', value),
    ).toThrow(/not in ENCRYPTION_KEYS/);
  });

  it('hands PostgreSQL derived keys only, never the keyring key', () => {
    const [keyId, encryption, mac] = sqlSealSettingValue(keyring).split(':');
    const key = Buffer.from(entry.slice('k1:'.length), 'base64');
    const derived = (info: string) =>
      Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, 32)).toString('base64');
    expect(keyId).toBe('k1');
    expect(encryption).toBe(derived('sql-seal\u0000encryption'));
    expect(mac).toBe(derived('sql-seal\u0000mac'));
    expect([encryption, mac]).not.toContain(key.toString('base64'));
  });

  it('leaves the blind index as it was before keys were derived in one place', () => {
    const key = Buffer.from(entry.slice('k1:'.length), 'base64');
    const indexKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'blind-index\u0000payments.customer', 32));
    const expected = `k1:${createHmac('sha256', indexKey).update('cus_1', 'utf8').digest('base64url')}`;
    expect(keyring.blindIndex('cus_1', 'payments.customer')).toBe(expected);
  });
});
