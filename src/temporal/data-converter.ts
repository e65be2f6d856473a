import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import type { Keyring } from '../crypto/keyring.ts';
import { EncryptionCodec } from './encryption-codec.ts';

/** Shared by the worker, its workflow bundle and every client so all read bigint amounts alike. */
export const payloadConverterPath = fileURLToPath(new URL('./payload-converter.cjs', import.meta.url));

/**
 * The worker's and every client's data converter: bigint-aware JSON, then encryption with the
 * keyring (src/temporal/encryption-codec.ts). Codecs run outside the workflow sandbox.
 */
export function createDataConverter(keyring: Keyring): DataConverter {
  return { payloadConverterPath, payloadCodecs: [new EncryptionCodec(keyring)] };
}
