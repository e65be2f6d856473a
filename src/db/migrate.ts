import { readdir, readFile, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';

// Prisma's schema engine compiled to WebAssembly: migrations without the native engine
// download, so a machine that only reaches the npm registry can still migrate. The same
// prisma/migrations folder and _prisma_migrations table work with `prisma migrate deploy`.

const projectRoot = path.resolve(import.meta.dirname, '..', '..');
export const schemaPath = path.join(projectRoot, 'prisma', 'schema.prisma');
export const migrationsPath = path.join(projectRoot, 'prisma', 'migrations');
const noFilter = { externalTables: [], externalEnums: [] };

type WasmExports = Record<string, unknown>;
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: WasmExports } }>;
};

type EngineModule = typeof import('@prisma/schema-engine-wasm') & {
  __wbg_set_wasm(exports: WasmExports): void;
};

// Instantiated by hand rather than through the package's `import x from '*.wasm'` entry,
// which needs `node --experimental-wasm-modules`; this way vitest and tsx can call it too.
async function loadEngineModule(): Promise<EngineModule> {
  const require = createRequire(import.meta.url);
  const wasmPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/\.js$/, '.wasm');
  const bindings = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as unknown as EngineModule;
  const bytes = await readFile(wasmPath);
  const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bindings as never });
  bindings.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return bindings;
}

let engineModule: Promise<EngineModule> | undefined;

function loadOnce(): Promise<EngineModule> {
  engineModule ??= loadEngineModule();
  return engineModule;
}

type ScriptAdapter = { client: { query(sql: string): Promise<unknown> }; onError(error: unknown): never };
type PgFields = ReturnType<typeof parseConnectionString>;

// @prisma/adapter-pg runs a script by splitting it on ';', which breaks the PL/pgSQL
// bodies of our hand-written triggers. PostgreSQL's simple query protocol takes the whole
// script at once (and runs it as one implicit transaction, so a migration is atomic).
function sendWholeScripts<T>(adapter: T): T {
  const target = adapter as unknown as ScriptAdapter & { executeScript(script: string): Promise<void> };
  target.executeScript = async (script: string) => {
    try {
      await target.client.query(script);
    } catch (error) {
      target.onError(error);
    }
  };
  return adapter;
}

async function adminQuery(fields: PgFields, sql: string): Promise<void> {
  const client = new pg.Client({ ...fields, database: 'postgres' } as pg.ClientConfig);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

// Connection fields rather than a connectionString, and a shadow database of our own: the
// adapter's shadow database is reached by overriding `database`, which node-postgres ignores
// next to a connectionString, and is dropped while its pool still holds a connection.
function adapterFactory(databaseUrl: string): PrismaPg {
  const fields = parseConnectionString(databaseUrl);
  const factory = new PrismaPg(fields as ConstructorParameters<typeof PrismaPg>[0]);
  const connect = factory.connect.bind(factory);
  factory.connect = async () => sendWholeScripts(await connect());
  factory.connectToShadowDb = async () => {
    const name = `prisma_shadow_${randomUUID().replace(/-/g, '')}`;
    await adminQuery(fields, `CREATE DATABASE "${name}"`);
    const shadowFactory = new PrismaPg({ ...fields, database: name } as ConstructorParameters<typeof PrismaPg>[0]);
    const adapter = sendWholeScripts(await shadowFactory.connect());
    const pool = adapter.underlyingDriver() as pg.Pool;
    adapter.dispose = async () => {
      await pool.end();
      await adminQuery(fields, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    };
    return adapter;
  };
  return factory;
}

async function withEngine<T>(databaseUrl: string, run: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  const { SchemaEngine } = await loadOnce();
  const migrationAdapter = bindMigrationAwareSqlAdapterFactory(adapterFactory(databaseUrl));
  const datamodel = await readFile(schemaPath, 'utf8');
  const log = (): void => {};
  const engine = await SchemaEngine.new({ datamodels: [[schemaPath, datamodel]] }, log, migrationAdapter);
  try {
    return await run(engine);
  } finally {
    engine.free();
  }
}

async function listMigrations(): Promise<MigrationList> {
  const lockPath = path.join(migrationsPath, 'migration_lock.toml');
  const lockContent = await readFile(lockPath, 'utf8').catch(() => null);
  const names = (await readdir(migrationsPath, { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const migrationDirectories = await Promise.all(
    names.map(async (name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: await readFile(path.join(migrationsPath, name, 'migration.sql'), 'utf8').then(
          (value) => ({ tag: 'ok' as const, value }),
          (error: Error) => ({ tag: 'error' as const, value: error.message }),
        ),
      },
    })),
  );
  return {
    baseDir: migrationsPath,
    lockfile: { path: 'migration_lock.toml', content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}

/** Applies every migration not yet recorded in `_prisma_migrations`; returns their names. */
export async function applyMigrations(databaseUrl: string): Promise<string[]> {
  const migrationsList = await listMigrations();
  const output = await withEngine(databaseUrl, (engine) =>
    engine.applyMigrations({ migrationsList, filters: noFilter }),
  );
  return output.appliedMigrationNames;
}

/**
 * The schema as the migrations leave it, written with each new migration. Diffs go from this
 * snapshot to prisma/schema.prisma without a shadow database: the wasm engine cannot
 * introspect PostgreSQL through the driver adapter ("Column type 'char' could not be
 * deserialized"); a schema-to-schema diff reads no database.
 */
export const snapshotPath = path.join(migrationsPath, 'schema.snapshot.prisma');

/**
 * Writes a new migration folder holding the SQL that takes the schema from the snapshot to
 * what prisma/schema.prisma describes. Returns its path, or undefined when nothing changed.
 */
export async function createMigration(databaseUrl: string, name: string): Promise<string | undefined> {
  const datamodel = await readFile(schemaPath, 'utf8');
  const snapshot = await readFile(snapshotPath, 'utf8').catch(() => undefined);
  const sql = await withEngine(databaseUrl, async (engine) => {
    const { stdout } = await engine.diff({
      from:
        snapshot === undefined
          ? { tag: 'empty' }
          : { tag: 'schemaDatamodel', files: [{ path: snapshotPath, content: snapshot }] },
      to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: datamodel }] },
      script: true,
      exitCode: null,
      filters: noFilter,
    });
    return stdout ?? '';
  });
  if (sql.trim() === '' || sql.includes('This is an empty migration.')) return undefined;
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const folder = path.join(migrationsPath, `${stamp}_${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`);
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'migration.sql'), sql);
  await writeFile(snapshotPath, datamodel);
  await writeFile(
    path.join(migrationsPath, 'migration_lock.toml'),
    '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n',
  );
  return folder;
}
