import { describe, expect, it } from 'vitest';
import { Keyring } from '../../src/crypto/keyring.ts';
import { ColumnCipher, sealedKeyId } from '../../src/crypto/column-cipher.ts';

const oldEntry = Keyring.generateEntry('k1');
const cipher = new ColumnCipher(Keyring.parse(oldEntry));

describe('ColumnCipher', () => {
  it('seals a value as enc:v1:<key id>:<base64> and opens it', () => {
    const sealed = cipher.seal('payments.customer', 'cus_1');
    expect(sealed).toMatch(/^enc:v1:k1:[A-Za-z0-9+/]+=*$/);
    expect(sealedKeyId(sealed)).toBe('k1');
    expect(cipher.open('payments.customer', sealed)).toBe('cus_1');
    // Same plaintext, new nonce: equal values do not show as equal ciphertext.
    expect(cipher.seal('payments.customer', 'cus_1')).not.toBe(sealed);
  });

  it('refuses a ciphertext moved to another column', () => {
    const sealed = cipher.seal('payments.customer', 'cus_1');
    expect(() => cipher.open('payments.description', sealed)).toThrow();
  });

  it('reads plaintext written before encryption as it is, and says it needs rotation', () => {
    expect(cipher.open('payments.description', 'a plain description')).toBe('a plain description');
    expect(cipher.openJson('payments.metadata', { order: '1' })).toEqual({ order: '1' });
    expect(cipher.openJson('payments.metadata', null)).toBeNull();
    expect(cipher.needsRotation('a plain description')).toBe(true);
    expect(cipher.needsRotation(cipher.seal('payments.description', 'x'))).toBe(false);
  });

  it('round-trips JSON through a sealed JSON string', () => {
    const sealed = cipher.sealJson('payments.metadata', { order: '1', note: 'ü' });
    expect(typeof sealed).toBe('string');
    expect(cipher.openJson('payments.metadata', sealed)).toEqual({ order: '1', note: 'ü' });
  });

  it('indexes a customer under each key: stable per key, different across keys', () => {
    const rotated = new ColumnCipher(Keyring.parse(`${Keyring.generateEntry('k2')},${oldEntry}`));
    const before = cipher.index('payments.customer', 'cus_1');
    expect(before).toMatch(/^k1:[A-Za-z0-9_-]{43}$/);
    expect(cipher.index('payments.customer', 'cus_1')).toBe(before);
    expect(cipher.index('payments.customer', 'cus_2')).not.toBe(before);
    expect(rotated.indexes('payments.customer', 'cus_1')).toEqual([
      rotated.index('payments.customer', 'cus_1'),
      before,
    ]);
    expect(rotated.index('payments.customer', 'cus_1')).toMatch(/^k2:/);
    expect(rotated.needsRotation(cipher.seal('payments.customer', 'cus_1'))).toBe(true);
    expect(rotated.open('payments.customer', cipher.seal('payments.customer', 'cus_1'))).toBe('cus_1');
  });
});
