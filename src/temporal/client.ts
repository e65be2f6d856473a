import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { dataConverter } from './data-converter.ts';
import { retryWithinDeadline } from './deadline-retry.ts';

/** How every client of ours talks to Temporal: the SDK's retries, kept within each call's deadline. */
export function connectionOptions(address: string): ConnectionOptions {
  return { address, interceptors: [retryWithinDeadline] };
}

export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(address));
  return new Client({ connection, namespace, dataConverter });
}
