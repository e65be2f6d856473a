import { METADATA_ENCODING_KEY } from '@temporalio/common';
import type { EncryptionCodec } from '../../src/temporal/encryption-codec.ts';
import { encryptedEncoding } from '../../src/temporal/encryption-codec.ts';

// A workflow history as protobufjs' JSON (toJSON: bytes as base64) with every encrypted payload
// replaced by its plaintext, wherever it sits (inputs, results, signals, updates, markers…).

const encryptedEncodingBase64 = Buffer.from(encryptedEncoding).toString('base64');

interface JsonPayload {
  metadata: Record<string, string>;
  data?: string;
}

function isEncryptedJsonPayload(value: unknown): value is JsonPayload {
  if (value === null || typeof value !== 'object') return false;
  const metadata = (value as { metadata?: unknown }).metadata;
  return (
    metadata !== null &&
    typeof metadata === 'object' &&
    (metadata as Record<string, unknown>)[METADATA_ENCODING_KEY] === encryptedEncodingBase64
  );
}

function decryptJsonPayload(payload: JsonPayload, codec: EncryptionCodec): JsonPayload {
  const decoded = codec.decodeOne({
    metadata: Object.fromEntries(Object.entries(payload.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(payload.data ?? '', 'base64'),
  });
  return {
    metadata: Object.fromEntries(
      Object.entries(decoded.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
    ),
    data: Buffer.from(decoded.data ?? []).toString('base64'),
  };
}

/** `history` (a History message, or its JSON) as JSON with every payload decrypted. */
export function decryptedHistoryJson(history: unknown, codec: EncryptionCodec): unknown {
  const walk = (value: unknown): unknown => {
    if (isEncryptedJsonPayload(value)) return decryptJsonPayload(value, codec);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, walk(inner)]));
    }
    return value;
  };
  return walk(JSON.parse(JSON.stringify(history)));
}
