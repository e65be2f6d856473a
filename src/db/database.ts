import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type PostgresServer } from './embedded-postgres.ts';

const projectRoot = path.resolve(import.meta.dirname, '..', '..');
export const dataDir = path.join(projectRoot, '.data');

/** Creates the database unless it exists; the name is checked, never interpolated blindly. */
export async function createDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsafe database name ${name}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsafe database name ${name}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Swaps the database name in a connection string. */
export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export interface ResolvedDatabase {
  url: string;
  embedded: PostgresServer | undefined;
}

/**
 * DATABASE_URL when set (its database is created if missing), otherwise an embedded
 * PostgreSQL whose data lives in .data/<folder>.
 */
export async function resolveDatabase(
  databaseUrl: string | undefined,
  embedded: { folder: string; port: number; database: string },
  log?: (line: string) => void,
): Promise<ResolvedDatabase> {
  if (databaseUrl) {
    const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
    await createDatabase(withDatabase(databaseUrl, 'postgres'), name);
    return { url: databaseUrl, embedded: undefined };
  }
  const server = await startEmbeddedPostgres(path.join(dataDir, embedded.folder), embedded.port, log);
  await createDatabase(server.adminUrl, embedded.database);
  return { url: server.urlFor(embedded.database), embedded: server };
}
