import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from './config.ts';
import { resolveDatabase, dataDir } from './db/database.ts';
import { applyMigrations } from './db/migrate.ts';
import { createPrisma } from './db/prisma.ts';
import { ensureTemporal, parseSqliteSynchronous } from './temporal/dev-server.ts';
import { connectClient } from './temporal/client.ts';
import { createWorker } from './worker.ts';
import { ensureWorkflowBundle } from './temporal/workflow-bundle.ts';
import { startServer } from './server.ts';
import { startProviderSim } from './provider-sim/server.ts';
import { simOptionsFromEnv } from './provider-sim/options.ts';
import { createProviderGateway } from './providers/index.ts';
import { onShutdown } from './main.ts';
import { createLogger } from './observability/logger.ts';
import { startEventRelay } from './events/relay.ts';
import { startWebhookSweeper } from './webhooks/inbox.ts';
import { ensureMaintenanceSchedule } from './temporal/schedules.ts';
import { ensureImportSchedule } from './temporal/import-schedule.ts';
import { ensureReconciliationSchedule } from './temporal/reconciliation-schedule.ts';
import { ensurePayoutSchedule } from './temporal/payout-schedule.ts';
import { startRecordIntakeSweeper } from './records/intake.ts';
import { ensureNats } from './nats/nats-server.ts';
import { startEventStreamPublisher } from './events/stream-publisher.ts';
import { Keyring } from './crypto/keyring.ts';
import { ensureDevSecret } from './crypto/dev-secrets.ts';
import { cipherFor } from './crypto/column-cipher.ts';
import { rotateColumns } from './crypto/rotate-columns.ts';
import { removeDevStack, writeDevStack } from './dev-stack-file.ts';

// `npm start`: the whole stack in one command. Temporal (dev server, SQLite file in .data/),
// PostgreSQL (embedded, data in .data/) and NATS with JetStream (store in .data/nats) unless
// TEMPORAL_ADDRESS / DATABASE_URL / NATS_URL point elsewhere; migrations; then the provider
// simulator, the worker (with the maintenance, import, reconciliation and payout schedules), the outbox relay, the event
// stream publisher and the API.

const log = (line: string): void => {
  process.stderr.write(`[start] ${line}\n`);
};

// What has started so far, stopped in reverse order at Ctrl-C, and also when a later step fails
// to start: a failed start must not leave the dev server or PostgreSQL running on their ports.
const stops: (() => Promise<void>)[] = [];
async function stopStarted(): Promise<void> {
  for (const stop of stops.reverse()) await stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
  stops.length = 0;
}

/** Notes a server's stop as soon as it is up, even if one started beside it fails. */
function stoppedLater<T>(started: Promise<T>, stopOf: (server: T) => (() => Promise<void>) | undefined): Promise<T> {
  return started.then((server) => {
    const stop = stopOf(server);
    if (stop) stops.push(stop);
    return server;
  });
}

/** Like Promise.all, but waits for every start to end, so a failure leaves nothing starting unseen. */
async function allStarted<T extends readonly unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  // Dev mode: webhook endpoints on this machine (http://localhost:…) are allowed, unless
  // WEBHOOK_ALLOW_PRIVATE_DESTINATIONS=false asks for the production rule.
  process.env.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS ??= 'true';
  // A terminal reads lines, not JSON: LOG_FORMAT=json asks for what production writes.
  process.env.LOG_FORMAT ??= 'pretty';
  const config = loadConfig();
  const adminApiKey = config.adminApiKey ?? `sk_admin_${randomBytes(24).toString('hex')}`;
  // Kept in .data/ across starts: yesterday's payloads and columns must still decrypt.
  const keyring =
    config.keyring ??
    Keyring.parse(await ensureDevSecret(dataDir, 'encryption-keys', () => Keyring.generateEntry('dev1')));
  const codecAccessToken =
    config.codecAccessToken ??
    (await ensureDevSecret(dataDir, 'codec-access-token', () => `codec_${randomBytes(24).toString('hex')}`));
  const api = `http://${config.host}:${config.port}`;
  onShutdown(stopStarted);

  // The workflow bundle is prebuilt after the first start; when the sources changed, building
  // it again overlaps with the servers starting.
  const [temporalServer, database, workflowBundle, nats] = await allStarted([
    stoppedLater(
      ensureTemporal(config.temporalAddress, {
        dbFile: path.join(dataDir, 'temporal', 'temporal.sqlite'),
        sqliteSynchronous: parseSqliteSynchronous(process.env.TEMPORAL_SQLITE_SYNCHRONOUS),
        port: Number(process.env.TEMPORAL_PORT ?? 7233),
        uiPort: Number(process.env.TEMPORAL_UI_PORT ?? 8233),
        uiCodecEndpoint: `${api}/codec/${codecAccessToken}`,
        logFile: path.join(dataDir, 'temporal-server.log'),
        log,
      }),
      (server) => server.stop,
    ),
    stoppedLater(
      resolveDatabase(
        config.databaseUrl,
        { folder: 'postgres', port: Number(process.env.EMBEDDED_POSTGRES_PORT ?? 54320), database: 'payments' },
        log,
      ),
      (database) => database.embedded?.stop,
    ),
    ensureWorkflowBundle(log),
    stoppedLater(
      ensureNats(config.natsUrl, {
        port: Number(process.env.NATS_PORT ?? 42220),
        storeDir: path.join(dataDir, 'nats'),
        logFile: path.join(dataDir, 'nats-server.log'),
        log,
      }),
      (server) => server.stop,
    ),
  ]);

  const applied = await applyMigrations(database.url);
  log(applied.length > 0 ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');

  const prisma = createPrisma(database.url, config.databasePoolSize);
  stops.push(() => prisma.$disconnect());
  // Rows written before encryption (or under an older key) are brought to the current key; a
  // no-op once they are (README "Encryption").
  const rotated = await rotateColumns(prisma, cipherFor(keyring));
  const rotatedRows = Object.values(rotated).reduce((sum, rows) => sum + rows, 0);
  if (rotatedRows > 0) log(`encrypted ${rotatedRows} rows with key ${keyring.currentKeyId}`);

  // In dev mode the simulator signs its webhooks with our first secret and sends them to our
  // own API, so the whole loop (provider → webhook → payment workflow) runs out of the box.
  const simOptions = simOptionsFromEnv();
  simOptions.stripe = {
    webhookUrl: simOptions.stripe?.webhookUrl ?? `${api}/v1/webhooks/stripe`,
    webhookSecret: simOptions.stripe?.webhookSecret ?? config.webhookSecretsStripe[0],
  };
  simOptions.paypal = {
    webhookUrl: simOptions.paypal?.webhookUrl ?? `${api}/v1/webhooks/paypal`,
    webhookSecret: simOptions.paypal?.webhookSecret ?? config.webhookSecretsPaypal[0],
  };
  const sim = await startProviderSim(config.host, config.providerSimPort, simOptions, createLogger('provider-sim'));
  stops.push(() => sim.close());
  const providers = createProviderGateway(config);
  stops.push(async () => providers.shutdown());

  const temporal = await connectClient(temporalServer.address, config.temporalNamespace, keyring);
  stops.push(() => temporal.connection.close());
  const { worker, connection } = await createWorker({
    keyring,
    address: temporalServer.address,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    prisma,
    providers,
    temporal,
    workflowBundle,
    tuning: config.workerTuning,
    allowPrivateWebhookDestinations: config.webhookAllowPrivateDestinations,
    logger: createLogger('worker'),
    // One process: the API's /metrics shows the worker's metrics; the SDK's have their own port.
    ...(config.temporalMetricsPort > 0
      ? { temporalMetricsAddress: `${config.host}:${config.temporalMetricsPort}` }
      : {}),
  });
  const workerRun = worker.run();
  stops.push(async () => {
    // The SDK also reacts to SIGINT/SIGTERM by itself; only ask when it has not begun yet.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun;
    await connection.close();
  });

  // As src/worker.ts does: the schedules, and the sweeper of recording-webhook records a crash left behind.
  await ensureMaintenanceSchedule(temporal, config);
  await ensureImportSchedule(temporal, config);
  await ensureReconciliationSchedule(temporal, config);
  await ensurePayoutSchedule(temporal, config);
  const relay = startEventRelay({ prisma, temporal, config });
  stops.push(() => relay.stop());
  const publisher = startEventStreamPublisher({ prisma, config, natsUrl: nats.url, cipher: cipherFor(keyring) });
  stops.push(() => publisher.stop());
  const sweeper = startWebhookSweeper({ prisma, temporal, config });
  stops.push(() => sweeper.stop());
  const recordSweeper = startRecordIntakeSweeper({ prisma, temporal, config });
  stops.push(() => recordSweeper.stop());
  // The UI on another port than the default is an origin the codec endpoint must accept too,
  // however the browser names this machine.
  const uiOrigins = temporalServer.uiUrl
    ? [temporalServer.uiUrl, temporalServer.uiUrl.replace('//127.0.0.1:', '//localhost:')]
    : [];
  const codecCorsOrigins = [...new Set([...config.codecCorsOrigins, ...uiOrigins])];
  const server = await startServer(
    { ...config, adminApiKey, keyring, codecAccessToken, codecCorsOrigins },
    prisma,
    temporal,
  );
  stops.push(() => server.close());
  // For `npm run demo` in another terminal: where everything is, and the admin key of this start.
  await writeDevStack({
    apiUrl: api,
    adminApiKey,
    simulatorUrl: `http://${config.host}:${config.providerSimPort}`,
    webUiUrl: temporalServer.uiUrl ?? null,
    namespace: config.temporalNamespace,
  });
  stops.push(() => removeDevStack());

  process.stdout.write(
    [
      '',
      `  Payment orchestrator is up (${Math.round((Date.now() - startedAt) / 100) / 10} s)`,
      `  API               ${api}   (ready: ${api}/ready)`,
      `  API docs          ${api}/docs`,
      `  Metrics           ${api}/metrics${config.temporalMetricsPort > 0 ? `   (Temporal SDK: http://${config.host}:${config.temporalMetricsPort}/metrics)` : ''}`,
      `  Temporal Web UI   ${temporalServer.uiUrl ?? '(external server: see its own UI)'}`,
      `  Temporal gRPC     ${temporalServer.address}`,
      `  PostgreSQL        ${database.embedded ? 'embedded, data in .data/postgres' : 'DATABASE_URL'}`,
      `  Provider sim      http://${config.host}:${config.providerSimPort}`,
      `  NATS JetStream    ${nats.url}   (stream ${config.eventStreamName}, subjects ${config.eventStreamSubjectPrefix}.>)`,
      `  Admin API key     ${adminApiKey}${config.adminApiKey ? ' (from ADMIN_API_KEY)' : ' (generated; set ADMIN_API_KEY to fix it)'}`,
      `  Encryption key    ${keyring.currentKeyId}${config.keyring ? ' (from ENCRYPTION_KEYS)' : ' (generated, kept in .data/encryption-keys)'}; the Web UI decodes payloads through ${api}/codec`,
      '',
      '  Ctrl-C stops everything.',
      '',
    ].join('\n') + '\n',
  );
}

main().catch(async (error: unknown) => {
  log(`failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await stopStarted();
  process.exit(1);
});
