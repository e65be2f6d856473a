import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import protoPackage from '@temporalio/proto';
import type { Keyring } from '../crypto/keyring.ts';

// @temporalio/proto is CommonJS: under Node's ESM loader its namespace comes through the default export.
const PayloadMessage = protoPackage.temporal.api.common.v1.Payload;

// Every payload we send to Temporal (workflow inputs and results, activity arguments and
// results, signals, updates, queries, memos) leaves encrypted: the whole payload, metadata
// included, serialized and sealed with AES-256-GCM under the keyring's current key. The key id
// rides in the outer metadata, so any key still in ENCRYPTION_KEYS decrypts it after a rotation.
// Search attributes bypass codecs by design: they must never carry personal data.

export const encryptedEncoding = 'binary/encrypted';
export const keyIdMetadataKey = 'encryption-key-id';
/** Authenticated with each payload: a ciphertext from a database column does not decrypt as a payload. */
const payloadContext = 'temporal-payload';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  return encoding !== undefined && encoding !== null && decoder.decode(encoding) === encryptedEncoding;
}

export class EncryptionCodec implements PayloadCodec {
  readonly #keyring: Keyring;

  constructor(keyring: Keyring) {
    this.#keyring = keyring;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encodeOne(payload));
  }

  /** Payloads written before encryption (the recorded replay histories) come back unchanged. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decodeOne(payload));
  }

  encodeOne(payload: Payload): Payload {
    // Already sealed (an encoded payload passed back in): sealing twice would only hide it deeper.
    if (isEncrypted(payload)) return payload;
    const plaintext = PayloadMessage.encode(payload).finish();
    const { keyId, data } = this.#keyring.encrypt(plaintext, payloadContext);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: encoder.encode(encryptedEncoding),
        [keyIdMetadataKey]: encoder.encode(keyId),
      },
      data,
    };
  }

  decodeOne(payload: Payload): Payload {
    if (!isEncrypted(payload)) return payload;
    const keyId = payload.metadata?.[keyIdMetadataKey];
    if (!keyId || !payload.data) throw new Error('encrypted payload without its key id or data');
    const plaintext = this.#keyring.decrypt({ keyId: decoder.decode(keyId), data: payload.data }, payloadContext);
    const decoded = PayloadMessage.decode(plaintext);
    return { metadata: decoded.metadata, data: decoded.data };
  }
}
