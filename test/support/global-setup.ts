import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureTemporal, freePort } from '../../src/temporal/dev-server.ts';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { createDatabase, dataDir, dropDatabase, withDatabase } from '../../src/db/database.ts';
import { applyMigrations } from '../../src/db/migrate.ts';
import { ensureWorkflowBundle } from '../../src/temporal/workflow-bundle.ts';
import { ensureNats } from '../../src/nats/nats-server.ts';
import { Keyring } from '../../src/crypto/keyring.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    workflowBundlePath: string;
    natsUrl: string;
    /** ENCRYPTION_KEYS of the run: generated, as no test may depend on a developer's key. */
    encryptionKeys: string;
  }
}

const log = (line: string): void => {
  process.stderr.write(`[test setup] ${line}\n`);
};

// One fresh database per run: on DATABASE_URL's server when set, otherwise on an embedded
// PostgreSQL of its own in .data/test-postgres/<run> (initdb takes well under a second, and
// runs started side by side never share a data folder), removed after the run.
// Temporal: TEMPORAL_ADDRESS when set, otherwise a dev server in memory on free ports.
// NATS: NATS_URL when set, otherwise a nats-server with JetStream of the run's own on a free
// port, storing in .data/test-nats/<run> (never a server that happens to listen on 4222).
// embedded-postgres registers async-exit-hook, which turns the natural end of the process into
// process.exit(0) and so would hide vitest's failure code (CI would pass failing tests). The
// code vitest chose is remembered before that hook runs and restored at exit.
export function keepVitestExitCode(): void {
  let chosen: string | number | null | undefined;
  process.prependListener('beforeExit', () => {
    chosen = process.exitCode;
  });
  process.on('exit', () => {
    if (chosen !== undefined && chosen !== null && Number(chosen) !== 0) process.exitCode = chosen;
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  keepVitestExitCode();
  const runId = `test_${Date.now()}_${process.pid}`;
  const natsStoreDir = path.join(dataDir, 'test-nats', runId);
  const [temporal, postgres, bundle, nats] = await Promise.all([
    ensureTemporal(process.env.TEMPORAL_ADDRESS, { port: 0, uiPort: 0, log }),
    process.env.DATABASE_URL
      ? Promise.resolve(undefined)
      : startEmbeddedPostgres(path.join(dataDir, 'test-postgres', runId), await freePort(), log),
    ensureWorkflowBundle(log),
    ensureNats(process.env.NATS_URL, { port: await freePort(), storeDir: natsStoreDir, log }),
  ]);
  const adminUrl = postgres?.adminUrl ?? withDatabase(process.env.DATABASE_URL as string, 'postgres');
  await createDatabase(adminUrl, runId);
  const databaseUrl = postgres?.urlFor(runId) ?? withDatabase(process.env.DATABASE_URL as string, runId);
  await applyMigrations(databaseUrl);

  // A copy of the run's own: a start elsewhere in this checkout after an edit replaces the
  // prebuilt bundle, and workers restarted mid-run must keep running the code the run began with.
  const bundlePath = path.join(dataDir, 'test-bundles', `${runId}.js`);
  await mkdir(path.dirname(bundlePath), { recursive: true });
  if ('codePath' in bundle) await copyFile(bundle.codePath, bundlePath);
  else await writeFile(bundlePath, bundle.code);

  project.provide('temporalAddress', temporal.address);
  project.provide('databaseUrl', databaseUrl);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('natsUrl', nats.url);
  project.provide('encryptionKeys', process.env.ENCRYPTION_KEYS || Keyring.generateEntry('test'));
  log(`temporal ${temporal.address}, database ${runId}, nats ${nats.url}`);

  return async () => {
    await dropDatabase(adminUrl, runId).catch((error: unknown) => log(`could not drop ${runId}: ${String(error)}`));
    await postgres?.stop();
    if (postgres) await rm(path.join(dataDir, 'test-postgres', runId), { recursive: true, force: true });
    await rm(bundlePath, { force: true });
    await temporal.stop();
    await nats.stop();
    await rm(natsStoreDir, { recursive: true, force: true });
  };
}
