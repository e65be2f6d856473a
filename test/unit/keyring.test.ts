import { describe, expect, it } from 'vitest';
import { METADATA_ENCODING_KEY } from '@temporalio/common';
import { Keyring } from '../../src/crypto/keyring.ts';
import { EncryptionCodec, encryptedEncoding, keyIdMetadataKey } from '../../src/temporal/encryption-codec.ts';

const text = (bytes: Uint8Array | null | undefined) => new TextDecoder().decode(bytes ?? new Uint8Array());
const plainPayload = () => ({
  metadata: { [METADATA_ENCODING_KEY]: new TextEncoder().encode('json/plain') },
  data: new TextEncoder().encode('{"customer":"cus_1"}'),
});

describe('Keyring', () => {
  it('encrypts with the first key and decrypts with any listed key', () => {
    const oldEntry = Keyring.generateEntry('k1');
    const sealed = Keyring.parse(oldEntry).encrypt(Buffer.from('secret'), 'column');
    expect(sealed.keyId).toBe('k1');
    const rotated = Keyring.parse(`${Keyring.generateEntry('k2')},${oldEntry}`);
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.keyIds).toEqual(['k2', 'k1']);
    expect(rotated.decrypt(sealed, 'column').toString()).toBe('secret');
    expect(rotated.encrypt(Buffer.from('x'), 'column').keyId).toBe('k2');
  });

  it('refuses altered data, another context and unknown keys', () => {
    const keyring = Keyring.parse(Keyring.generateEntry('k1'));
    const sealed = keyring.encrypt(Buffer.from('secret'), 'column');
    const altered = Buffer.from(sealed.data);
    altered[20] = altered[20]! ^ 1;
    expect(() => keyring.decrypt({ keyId: 'k1', data: altered }, 'column')).toThrow();
    expect(() => keyring.decrypt(sealed, 'other-column')).toThrow();
    expect(() => keyring.decrypt({ keyId: 'k9', data: sealed.data }, 'column')).toThrow(
      'encryption key k9 is not in ENCRYPTION_KEYS',
    );
    expect(() => keyring.decrypt({ keyId: 'k1', data: new Uint8Array(10) }, 'column')).toThrow('ciphertext too short');
  });

  it('names what is wrong with ENCRYPTION_KEYS, never a key', () => {
    const short = Buffer.alloc(16).toString('base64');
    expect(() => Keyring.parse('')).toThrow('ENCRYPTION_KEYS lists no key');
    expect(() => Keyring.parse('nokey')).toThrow('each entry is <id>:<base64 key>');
    expect(() => Keyring.parse(`bad id:${short}`)).toThrow('each entry is <id>:<base64 key>');
    expect(() => Keyring.parse(`k1:${short}`)).toThrow('key k1 must be 32 bytes, base64-encoded');
    const entry = Keyring.generateEntry('k1');
    expect(() => Keyring.parse(`${entry},${entry}`)).toThrow('key id k1 appears twice');
  });
});

describe('EncryptionCodec', () => {
  it('seals a payload whole, with the key id beside it, and opens it again', async () => {
    const codec = new EncryptionCodec(Keyring.parse(Keyring.generateEntry('k1')));
    const [sealed] = await codec.encode([plainPayload()]);
    expect(text(sealed!.metadata![METADATA_ENCODING_KEY])).toBe(encryptedEncoding);
    expect(text(sealed!.metadata![keyIdMetadataKey])).toBe('k1');
    expect(text(sealed!.data)).not.toContain('cus_1');
    const [opened] = await codec.decode([sealed!]);
    expect(text(opened!.metadata![METADATA_ENCODING_KEY])).toBe('json/plain');
    expect(text(opened!.data)).toBe('{"customer":"cus_1"}');
  });

  it('passes payloads without the encryption encoding through unchanged (histories recorded before it)', async () => {
    const codec = new EncryptionCodec(Keyring.parse(Keyring.generateEntry('k1')));
    const plain = plainPayload();
    expect(await codec.decode([plain])).toEqual([plain]);
  });
});
