import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Client } from '@temporalio/client';
import type { ActivityInterceptorsFactory, Worker } from '@temporalio/worker';
import type { DestinationStream } from 'pino';
import { buildApp } from '../../src/api/build.ts';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.ts';
import { connectClient } from '../../src/temporal/client.ts';
import { createWorker } from '../../src/worker.ts';
import { loadConfig, requireKeyring, type Config } from '../../src/config.ts';
import { createProviderGateway } from '../../src/providers/index.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { startEventRelay } from '../../src/events/relay.ts';
import { startEventStreamPublisher } from '../../src/events/stream-publisher.ts';
import { startProviderSim } from '../../src/provider-sim/server.ts';
import type { ProviderSimOptions } from '../../src/provider-sim/options.ts';
import { freePort } from '../../src/temporal/dev-server.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { cipherFor } from '../../src/crypto/column-cipher.ts';

export interface Stack {
  app: FastifyInstance;
  config: Config;
  /** The suite's own provider simulator (its admin routes count charges). */
  sim: FastifyInstance;
  simUrl: string;
  prisma: PrismaClient;
  temporal: Client;
  taskQueue: string;
  adminApiKey: string;
  /** Every route the app registered, hidden ones included, with its schema. */
  routes: RouteOptions[];
  /** Creates a merchant through the API and returns its id and key. */
  merchant(): Promise<{ id: string; apiKey: string }>;
  /** The merchants this suite created, in order. */
  merchantIds: readonly string[];
  close(): Promise<void>;
}

/**
 * The real stack for one suite: API (via app.inject), a worker on the suite's own task
 * queue, the shared Temporal dev server, the run's PostgreSQL database and the run's NATS
 * server (or `overrides.natsUrl`), with the outbox relay and the event stream publisher. No mocks.
 */
// Business failures (declines, insufficient funds) are logged by the SDK at WARN; tests expect them.
process.env.TEMPORAL_LOG_LEVEL ??= 'ERROR';

export interface StackLogging {
  /** Where the API's and the worker's JSON lines go (at debug); without it the stack logs nothing of its own. */
  logs?: DestinationStream;
  /** host:port of the Temporal SDK's Prometheus exporter; the first stack of a process sets it (or none). */
  temporalMetricsAddress?: string;
}

/** Where a stack's services are: the run's (global setup) unless a suite brings its own. */
export interface StackServices {
  temporalAddress: string;
  databaseUrl: string;
  natsUrl: string;
  workflowBundlePath: string;
  encryptionKeys: string;
}

function runServices(): StackServices {
  return {
    temporalAddress: inject('temporalAddress'),
    databaseUrl: inject('databaseUrl'),
    natsUrl: inject('natsUrl'),
    workflowBundlePath: inject('workflowBundlePath'),
    encryptionKeys: inject('encryptionKeys'),
  };
}

export interface StackWorker {
  /** Around every activity of the suite's worker (fault injection); none by default. */
  activityInterceptors?: ActivityInterceptorsFactory[];
}

export async function startStack(
  suite: string,
  overrides: Partial<Config> = {},
  simOptions: ProviderSimOptions = {},
  logging: StackLogging = {},
  services: StackServices = runServices(),
  workerOptions: StackWorker = {},
): Promise<Stack> {
  const taskQueue = `test-${suite}-${randomUUID()}`;
  const adminApiKey = `sk_admin_${randomUUID()}`;
  const simPort = await freePort();
  const sim = await startProviderSim('127.0.0.1', simPort, { hangMs: 3_000, ...simOptions });
  const simUrl = `http://127.0.0.1:${simPort}`;
  const config: Config = {
    ...loadConfig(),
    taskQueue,
    adminApiKey,
    depositWaitMs: 10_000,
    providerSimUrl: simUrl,
    providerTimeoutMs: 1_000,
    // Suites reuse customer ids across many payments; the ones that test velocity set their own limit.
    riskMaxPaymentsPerWindow: 100_000,
    // Suites deliver webhooks to receivers on 127.0.0.1; test/integration/webhook-destinations.test.ts
    // turns this off to prove the production rule.
    webhookAllowPrivateDestinations: true,
    natsUrl: services.natsUrl,
    keyring: Keyring.parse(services.encryptionKeys),
    codecAccessToken: `codec_${randomUUID()}`,
    // Suites share one database and one Temporal namespace: a suite's import (POST /v1/imports)
    // runs under an id of its own and takes no other suite's staged rows (a merchant id no one
    // has). The imports suite sets both to its own.
    importWorkflowId: `import-${suite}-${randomUUID()}`,
    importMerchantIds: [`mer_no_imports_${suite}`],
    ...overrides,
  };
  const keyring = requireKeyring(config);
  const providers = createProviderGateway(config);
  const prisma = createPrisma(services.databaseUrl, 20);
  const temporal = await connectClient(services.temporalAddress, config.temporalNamespace, keyring);
  const { worker, connection } = await createWorker({
    keyring,
    address: services.temporalAddress,
    namespace: config.temporalNamespace,
    taskQueue,
    prisma,
    providers,
    temporal,
    workflowBundle: { codePath: services.workflowBundlePath },
    allowPrivateWebhookDestinations: config.webhookAllowPrivateDestinations,
    // Errors only, as before, unless the suite reads the logs. The SDK's runtime is installed
    // once per process: the first stack's logger is the one it keeps.
    logger: logging.logs
      ? createLogger('worker', { level: 'debug', format: 'json', destination: logging.logs })
      : createLogger('worker', { level: 'error', format: 'pretty', destination: process.stderr }),
    ...(logging.temporalMetricsAddress ? { temporalMetricsAddress: logging.temporalMetricsAddress } : {}),
    ...(workerOptions.activityInterceptors ? { activityInterceptors: workerOptions.activityInterceptors } : {}),
  });
  const workerRun = worker.run();
  // Suites share one database: each relay hands over only its own merchants' events, to its
  // own worker and delivery settings.
  const merchantIds: string[] = [];
  const relay = startEventRelay({ prisma, temporal, config, merchantIds: () => merchantIds });
  const routes: RouteOptions[] = [];
  // Every suite publishes its own merchants' events to the stream; a suite that checks what
  // arrives there reads its own merchants' events (or runs a NATS server of its own).
  const publisher = startEventStreamPublisher({
    prisma,
    config,
    natsUrl: config.natsUrl ?? services.natsUrl,
    cipher: cipherFor(keyring),
    merchantIds: () => merchantIds,
  });
  const app = await buildApp(
    { prisma, temporal, config },
    {
      logger: logging.logs ? createLogger('api', { level: 'debug', format: 'json', destination: logging.logs }) : false,
      bodyLimitBytes: config.bodyLimitBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      onRoute: (route) => routes.push(route),
    },
  );

  const merchant = async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/merchants',
      headers: { authorization: `Bearer ${adminApiKey}` },
      payload: { name: `${suite} merchant` },
    });
    if (response.statusCode !== 201) throw new Error(`merchant creation failed: ${response.body}`);
    const body = response.json<{ id: string; api_key: string }>();
    merchantIds.push(body.id);
    return { id: body.id, apiKey: body.api_key };
  };

  const close = async () => {
    // Every suite leaves the books balanced: checked here so no suite can forget it.
    const discrepancies = await reconcile(prisma);
    await app.close();
    await relay.stop();
    await publisher.stop();
    stopWorker(worker);
    await workerRun;
    await connection.close();
    await temporal.connection.close();
    await prisma.$disconnect();
    providers.shutdown();
    // The gateway keeps its sockets to the simulator open: a request that was still held open
    // when closing began (a timeout fault) would keep the simulator's close waiting.
    const simClosed = sim.close();
    sim.server.closeAllConnections();
    await simClosed;
    if (discrepancies.length > 0) {
      throw new Error(
        `ledger integrity broken after suite ${suite}: ${JSON.stringify(discrepancies, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
      );
    }
  };
  return { app, config, sim, simUrl, prisma, temporal, taskQueue, adminApiKey, routes, merchant, merchantIds, close };
}

function stopWorker(worker: Worker): void {
  if (worker.getState() === 'RUNNING') worker.shutdown();
}

export function bearer(apiKey: string): { authorization: string } {
  return { authorization: `Bearer ${apiKey}` };
}
