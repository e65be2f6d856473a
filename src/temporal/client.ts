import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { Keyring } from '../crypto/keyring.ts';
import { createDataConverter } from './data-converter.ts';
import { retryWithinDeadline } from './deadline-retry.ts';

/** How every client of ours talks to Temporal: the SDK's retries, kept within each call's deadline. */
export function connectionOptions(address: string): ConnectionOptions {
  return { address, interceptors: [retryWithinDeadline] };
}

/** A client whose payloads are encrypted with `keyring` (src/temporal/encryption-codec.ts). */
export async function connectClient(address: string, namespace: string, keyring: Keyring): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(address));
  return new Client({ connection, namespace, dataConverter: createDataConverter(keyring) });
}
