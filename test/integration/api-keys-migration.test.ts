import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/api/build.ts';
import { createDatabase, dropDatabase, withDatabase } from '../../src/db/database.ts';
import { migrationsPath } from '../../src/db/migrate.ts';
import { createPrisma } from '../../src/db/prisma.ts';
import { loadConfig } from '../../src/config.ts';
import { hashApiKey, newApiKeySecret } from '../../src/api-keys/api-keys.ts';
import { bearer } from '../support/stack.ts';

// A merchant made before several keys existed had its one key in merchants.api_key_hash. The
// migration moves it to api_keys: the same secret keeps opening the same merchant's routes.
// A database of its own, taken to just before the migration with the migrations' own SQL, given
// such a merchant, then taken the rest of the way (the migrations after it included).

const keysMigration = '20261207020000_api_keys';
const database = `api_keys_upgrade_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
const url = withDatabase(inject('databaseUrl'), database);

async function runMigrations(client: pg.Client, names: string[]): Promise<void> {
  // Whole scripts at once, as src/db/migrate.ts sends them (PL/pgSQL bodies hold semicolons).
  for (const name of names)
    await client.query(await readFile(path.join(migrationsPath, name, 'migration.sql'), 'utf8'));
}

const secret = newApiKeySecret();
let client: pg.Client;

beforeAll(async () => {
  await createDatabase(adminUrl, database);
  client = new pg.Client({ connectionString: url });
  await client.connect();
  const names = (await readdir(migrationsPath, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const at = names.indexOf(keysMigration);
  expect(at).toBeGreaterThan(0);
  await runMigrations(client, names.slice(0, at));
  await client.query(
    `INSERT INTO merchants (id, name, api_key_hash, api_key_prefix, created_at)
     VALUES ('mer_legacy', 'Legacy', $1, $2, '2026-11-30T10:00:00Z')`,
    [hashApiKey(secret), secret.slice(0, 12)],
  );
  await runMigrations(client, names.slice(at));
}, 120_000);

afterAll(async () => {
  await client?.end();
  await dropDatabase(adminUrl, database);
});

describe('the api_keys migration', () => {
  it("moves each merchant's key into api_keys, where the same secret still opens its routes", async () => {
    const { rows } = await client.query(
      'SELECT id, merchant_id, name, key_hash, key_prefix, expires_at, revoked_at, created_at FROM api_keys',
    );
    expect(rows).toEqual([
      {
        id: expect.stringMatching(/^ak_[0-9A-Za-z]{22}$/),
        merchant_id: 'mer_legacy',
        name: 'default',
        key_hash: hashApiKey(secret),
        key_prefix: secret.slice(0, 12),
        expires_at: null,
        revoked_at: null,
        created_at: new Date('2026-11-30T10:00:00Z'),
      },
    ]);
    const { rows: columns } = await client.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'merchants' AND column_name LIKE 'api_key%'`,
    );
    expect(columns).toEqual([]);

    const prisma = createPrisma(url, 2);
    const app = await buildApp(
      { prisma, temporal: {} as never, config: { ...loadConfig(), adminApiKey: `sk_admin_${randomUUID()}` } },
      { logger: false, bodyLimitBytes: 64 * 1024, requestTimeoutMs: 5_000 },
    );
    try {
      const listed = await app.inject({ method: 'GET', url: '/v1/api_keys', headers: bearer(secret) });
      expect(listed.statusCode, listed.body).toBe(200);
      expect(listed.json<{ data: { id: string; name: string }[] }>().data.map((key) => [key.id, key.name])).toEqual([
        [rows[0].id, 'default'],
      ]);
      const wrong = await app.inject({ method: 'GET', url: '/v1/api_keys', headers: bearer(newApiKeySecret()) });
      expect(wrong.statusCode).toBe(401);
    } finally {
      await app.close();
      await prisma.$disconnect();
    }
  });
});
