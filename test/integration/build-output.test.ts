import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { temporal as proto } from '@temporalio/proto';
import { ensureTemporal, freePort, type TemporalServer } from '../../src/temporal/dev-server.ts';
import { ensureNats, type NatsServer } from '../../src/nats/nats-server.ts';
import { createDatabase, dataDir, dropDatabase, withDatabase } from '../../src/db/database.ts';

// What the Dockerfile ships, run here without Docker: `npm run build` output (compiled
// JavaScript, no tsx), started with plain `node` like the image's services. The processes get
// their own Temporal dev server, NATS and database, so their schedules and events never meet the
// other suites'. BUILD_OUTPUT_DIR tests a build made elsewhere instead (for example one whose
// node_modules holds production dependencies only, as in the image) and leaves it in place.

const execFileAsync = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..', '..');
const runId = `build_${Date.now()}_${process.pid}`;
const outDir = process.env.BUILD_OUTPUT_DIR ? path.resolve(process.env.BUILD_OUTPUT_DIR) : undefined;
const buildDir = outDir ?? path.join(dataDir, 'test-build', runId);
const natsStoreDir = path.join(dataDir, 'test-nats', runId);
const webhookSecret = 'whsec_build_output_test';
const processStartTimeoutMs = 30_000;
const pollIntervalMs = 100;
const adminApiKey = `sk_admin_${runId}`;

interface BuiltProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  exitCode(): number | null | undefined;
  /** The exit code (or the signal that ended it), once it exits by itself. */
  finished(): Promise<number | string | null>;
  /** SIGTERM, then the exit code (or the signal that ended it). */
  stop(): Promise<number | string | null>;
}

function startBuilt(entry: string, args: string[], env: Record<string, string>): BuiltProcess {
  // A container's environment, not the test runner's: nothing from vitest leaks into the process.
  const child = spawn(process.execPath, [path.join(buildDir, entry), ...args], {
    cwd: buildDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  let code: number | null | undefined;
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (exitCode, signal) => {
      code = exitCode;
      resolve(exitCode ?? signal);
    }),
  );
  return {
    child,
    output: () => text,
    exitCode: () => code,
    finished: () => exited,
    stop: async () => {
      if (code === undefined) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Resolves once `url` answers 200; rejects when the process exits first or the time is up. */
async function waitForOk(url: string, built: BuiltProcess): Promise<void> {
  const deadline = Date.now() + processStartTimeoutMs;
  while (Date.now() < deadline) {
    if (built.exitCode() !== undefined) throw new Error(`exited before ${url} answered:\n${built.output()}`);
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
  throw new Error(`${url} did not answer 200 within ${processStartTimeoutMs} ms:\n${built.output()}`);
}

let temporal: TemporalServer;
let nats: NatsServer;
let adminUrl: string;
let databaseUrl: string;
let bundleStderr = '';
const processes: BuiltProcess[] = [];

beforeAll(async () => {
  if (!outDir) {
    await execFileAsync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), buildDir], { cwd: root });
    // The image installs node_modules next to the build; here the checkout's stands in.
    await symlink(path.join(root, 'node_modules'), path.join(buildDir, 'node_modules'), 'dir');
  }
  // The Dockerfile's step: the workflow bundle prebuilt from the compiled workflows.
  const bundle = await execFileAsync(process.execPath, [path.join(buildDir, 'scripts', 'build-workflow-bundle.js')], {
    cwd: buildDir,
  });
  bundleStderr = bundle.stderr;
  [temporal, nats] = await Promise.all([
    ensureTemporal(undefined, { port: 0, uiPort: 0 }),
    ensureNats(undefined, { port: await freePort(), storeDir: natsStoreDir }),
  ]);
  adminUrl = withDatabase(inject('databaseUrl'), 'postgres');
  await createDatabase(adminUrl, runId);
  databaseUrl = withDatabase(inject('databaseUrl'), runId);
}, 240_000);

afterAll(async () => {
  await Promise.all(processes.map((built) => built.stop()));
  await temporal?.stop();
  await nats?.stop();
  await rm(natsStoreDir, { recursive: true, force: true });
  if (adminUrl) await dropDatabase(adminUrl, runId);
  if (!outDir) await rm(buildDir, { recursive: true, force: true });
});

describe('the build output (npm run build), run with node', () => {
  it('holds compiled JavaScript only, with the files read at run time beside it', async () => {
    const sources = await readdir(path.join(buildDir, 'src'), { recursive: true });
    expect(sources.filter((file) => file.endsWith('.ts'))).toEqual([]);
    expect(sources).toContain(path.join('temporal', 'payload-converter.cjs'));
    expect(await readdir(path.join(buildDir, 'prisma', 'migrations'))).toEqual(
      await readdir(path.join(root, 'prisma', 'migrations')),
    );
    expect(bundleStderr).toMatch(/workflow-bundle-[0-9a-f]{64}\.js/);
  });

  it('compiled workflows replay every recorded history', async () => {
    const fixtures = path.join(root, 'test', 'fixtures', 'histories');
    const files = (await readdir(fixtures)).filter((file) => file.endsWith('.json')).sort();
    const bundleFile = (await readdir(path.join(buildDir, '.build'))).find((file) => file.endsWith('.js'));
    const histories = await Promise.all(
      files.map(async (file) => ({
        workflowId: file,
        history: proto.api.history.v1.History.fromObject(JSON.parse(await readFile(path.join(fixtures, file), 'utf8'))),
      })),
    );
    const results = [];
    for await (const result of Worker.runReplayHistories(
      {
        workflowBundle: { codePath: path.join(buildDir, '.build', bundleFile as string) },
        // The build's own copy of the converter, as its worker loads it.
        dataConverter: { payloadConverterPath: path.join(buildDir, 'src', 'temporal', 'payload-converter.cjs') },
      },
      histories,
    )) {
      results.push({ workflowId: result.workflowId, error: result.error ? String(result.error) : undefined });
    }
    expect(results).toEqual(files.map((workflowId) => ({ workflowId, error: undefined })));
  });

  // The next test runs on the database this one migrates.
  it('migrates an empty database (src/db/cli.js deploy)', async () => {
    const migrate = startBuilt('src/db/cli.js', ['deploy'], { DATABASE_URL: databaseUrl });
    expect(await migrate.finished()).toBe(0);
    const migrations = (await readdir(path.join(root, 'prisma', 'migrations'), { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    expect(migrate.output().trim()).toBe(`applied: ${migrations.join(', ')}`);
  });

  it('API, worker and simulator take a card payment and its provider webhook, then stop on SIGTERM', async () => {
    const [apiPort, simPort, workerMetricsPort, temporalMetricsPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const api = `http://127.0.0.1:${apiPort}`;
    const shared = {
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      NATS_URL: nats.url,
      PROVIDER_SIM_URL: `http://127.0.0.1:${simPort}`,
      WEBHOOK_SECRETS_STRIPE: webhookSecret,
      HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      // Payload encryption keys (`id:base64 key`), the same for every process, for a build whose
      // processes require them; a build that does not read them ignores them.
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    };
    const sim = startBuilt('src/provider-sim/server.js', [], {
      ...shared,
      PROVIDER_SIM_PORT: String(simPort),
      PROVIDER_SIM_STRIPE_WEBHOOK_URL: `${api}/v1/webhooks/stripe`,
      PROVIDER_SIM_STRIPE_WEBHOOK_SECRET: webhookSecret,
    });
    // Both metrics ports free ones: the defaults may be taken on a shared machine.
    const worker = startBuilt('src/worker.js', [], {
      ...shared,
      WORKER_METRICS_PORT: String(workerMetricsPort),
      TEMPORAL_METRICS_PORT: String(temporalMetricsPort),
    });
    const server = startBuilt('src/server.js', [], { ...shared, PORT: String(apiPort), ADMIN_API_KEY: adminApiKey });
    processes.push(sim, worker, server);
    await Promise.all([
      waitForOk(`http://127.0.0.1:${simPort}/health`, sim),
      waitForOk(`http://127.0.0.1:${workerMetricsPort}/metrics`, worker),
      waitForOk(`${api}/ready`, server),
    ]);

    const merchant = await fetch(`${api}/v1/merchants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminApiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Build output' }),
    });
    expect(merchant.status).toBe(201);
    const { api_key: apiKey } = (await merchant.json()) as { api_key: string };
    const created = await fetch(`${api}/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': runId },
      body: JSON.stringify({ amount: 10_000, currency: 'USD', source: { type: 'card', token: 'tok_visa' } }),
    });
    expect(created.status).toBe(201);
    const payment = (await created.json()) as { id: string };
    expect(payment).toMatchObject({ status: 'succeeded', amount_captured: 10_000, fee: 320, net_amount: 9_680 });

    // The simulator's signed webhook for the charge went through the API's inbox to the payment.
    const inbox = new pg.Client({ connectionString: databaseUrl });
    await inbox.connect();
    try {
      const deadline = Date.now() + processStartTimeoutMs;
      let outcomes: { type: string; outcome: string }[] = [];
      while (Date.now() < deadline) {
        const { rows } = await inbox.query<{ type: string; outcome: string }>(
          'SELECT type, outcome FROM webhook_events WHERE payment_id = $1 ORDER BY type',
          [payment.id],
        );
        outcomes = rows;
        if (rows.length > 0 && rows.every((row) => row.outcome !== 'pending')) break;
        await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
      }
      expect(outcomes).toEqual([{ type: 'charge_captured', outcome: 'delivered' }]);
    } finally {
      await inbox.end();
    }

    const integrity = await fetch(`${api}/v1/ledger/integrity`, {
      headers: { authorization: `Bearer ${adminApiKey}` },
    });
    expect(await integrity.json()).toMatchObject({ healthy: true, discrepancies: [] });
    // The bundle prebuilt from the build was the one loaded: the worker did not bundle at start.
    expect(worker.output()).not.toContain('no prebuilt bundle');

    expect(await Promise.all([server.stop(), worker.stop(), sim.stop()])).toEqual([0, 0, 0]);
  }, 90_000);
});
