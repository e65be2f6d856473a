import {
  NativeConnection,
  Runtime,
  Worker,
  type ActivityInterceptorsFactory,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { Logger as PinoLogger } from 'pino';
import type { Client } from '@temporalio/client';
import { createActivities } from '../activities/index.ts';
import type { PrismaClient } from './db/prisma.ts';
import type { ProviderGateway } from './providers/provider.ts';
import { createDataConverter } from './temporal/data-converter.ts';
import type { Keyring } from './crypto/keyring.ts';
import { cipherFor } from './crypto/column-cipher.ts';
import { defaultWorkerTuning, type WorkerTuning } from './temporal/worker-tuning.ts';
import { isMain, onShutdown } from './main.ts';
import { createLogger } from './observability/logger.ts';
import { temporalLogger, parseTemporalLogLevel } from './observability/temporal-logger.ts';
import { activityLogging } from './observability/activity-logging.ts';

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  prisma: PrismaClient;
  providers: ProviderGateway;
  /** Activities signal workflows through it (provider events to their payment). */
  temporal: Client;
  workflowBundle: WorkflowBundleOption;
  /** Encrypts every payload the worker sends to Temporal and decrypts what it reads (ENCRYPTION_KEYS). */
  keyring: Keyring;
  tuning?: WorkerTuning;
  /** WEBHOOK_ALLOW_PRIVATE_DESTINATIONS; default false: webhooks reach public addresses only. */
  allowPrivateWebhookDestinations?: boolean;
  /** The worker's lines (its own, the SDK's, workflows' and activities'); one per process, proc "worker". */
  logger?: PinoLogger;
  /** host:port for the SDK's Prometheus exporter (TEMPORAL_METRICS_PORT); none when unset. */
  temporalMetricsAddress?: string;
  /** Run inside the logging interceptor, around every activity: test harnesses inject faults here. */
  activityInterceptors?: ActivityInterceptorsFactory[];
}

let runtimeInstalled = false;

/**
 * The SDK's runtime, once per process: its lines on the worker's pino logger (the SDK logs
 * every worker state change at INFO; TEMPORAL_LOG_LEVEL, WARN by default, keeps those out),
 * and, given a port, its own metrics in Prometheus format there.
 */
function installRuntime(logger: PinoLogger, temporalMetricsAddress: string | undefined): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: temporalLogger(logger, parseTemporalLogLevel(process.env.TEMPORAL_LOG_LEVEL)),
    ...(temporalMetricsAddress
      ? {
          telemetryOptions: {
            // Seconds and `_total`, as Prometheus names them and as our own metrics do.
            metrics: {
              prometheus: {
                bindAddress: temporalMetricsAddress,
                useSecondsForDurations: true,
                countersTotalSuffix: true,
              },
            },
          },
        }
      : {}),
  });
}

export async function createWorker(options: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime(options.logger ?? createLogger('worker'), options.temporalMetricsAddress);
  const tuning = options.tuning ?? defaultWorkerTuning;
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle,
    activities: createActivities({
      prisma: options.prisma,
      providers: options.providers,
      temporal: options.temporal,
      allowPrivateWebhookDestinations: options.allowPrivateWebhookDestinations ?? false,
      keyring: options.keyring,
    }),
    dataConverter: createDataConverter(options.keyring),
    interceptors: { activity: [activityLogging, ...(options.activityInterceptors ?? [])] },
    maxCachedWorkflows: tuning.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: tuning.maxConcurrentWorkflowTasks,
    maxConcurrentLocalActivityExecutions: tuning.maxConcurrentLocalActivities,
    maxConcurrentActivityTaskExecutions: tuning.maxConcurrentActivities,
    shutdownGraceTime: '10 seconds',
  });
  return { worker, connection };
}

async function main(): Promise<void> {
  const { loadConfig, requireKeyring } = await import('./config.ts');
  const { createPrisma } = await import('./db/prisma.ts');
  const config = loadConfig();
  if (!config.databaseUrl || !config.temporalAddress) {
    throw new Error('src/worker.ts alone needs DATABASE_URL and TEMPORAL_ADDRESS; `npm start` sets up both.');
  }
  const keyring = requireKeyring(config);
  const logger = createLogger('worker');
  const prisma = createPrisma(config.databaseUrl, config.databasePoolSize);
  const { createProviderGateway } = await import('./providers/index.ts');
  const { ensureWorkflowBundle } = await import('./temporal/workflow-bundle.ts');
  const providers = createProviderGateway(config);
  // The outbox relay lives with the worker: it needs PostgreSQL and Temporal, like activities.
  const { connectClient } = await import('./temporal/client.ts');
  const { startEventRelay } = await import('./events/relay.ts');
  const temporal = await connectClient(config.temporalAddress, config.temporalNamespace, keyring);
  const { worker, connection } = await createWorker({
    keyring,
    address: config.temporalAddress,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    prisma,
    providers,
    temporal,
    // Prebuilt (npm run build:workflows, the image build, or an earlier start): polls in seconds.
    workflowBundle: await ensureWorkflowBundle(),
    tuning: config.workerTuning,
    allowPrivateWebhookDestinations: config.webhookAllowPrivateDestinations,
    logger,
    ...(config.temporalMetricsPort > 0
      ? { temporalMetricsAddress: `${config.host}:${config.temporalMetricsPort}` }
      : {}),
  });
  const { startMetricsServer } = await import('./observability/metrics-server.ts');
  const metrics =
    config.workerMetricsPort > 0 ? await startMetricsServer(config.host, config.workerMetricsPort) : undefined;
  logger.info(
    { metricsPort: metrics?.port ?? null, temporalMetricsPort: config.temporalMetricsPort || null },
    'worker started',
  );
  const { startWebhookSweeper } = await import('./webhooks/inbox.ts');
  const { ensureMaintenanceSchedule } = await import('./temporal/schedules.ts');
  await ensureMaintenanceSchedule(temporal, config);
  const { ensureImportSchedule } = await import('./temporal/import-schedule.ts');
  await ensureImportSchedule(temporal, config);
  const { ensureReconciliationSchedule } = await import('./temporal/reconciliation-schedule.ts');
  await ensureReconciliationSchedule(temporal, config);
  const { ensurePayoutSchedule } = await import('./temporal/payout-schedule.ts');
  await ensurePayoutSchedule(temporal, config);
  const relay = startEventRelay({ prisma, temporal, config });
  const sweeper = startWebhookSweeper({ prisma, temporal, config });
  // The event stream publisher too; without NATS_URL events wait unpublished (GET /v1/admin/stats
  // counts them) and go out, in order, once a worker runs with it.
  const { startEventStreamPublisher } = await import('./events/stream-publisher.ts');
  const publisher = config.natsUrl
    ? startEventStreamPublisher({ prisma, config, natsUrl: config.natsUrl, cipher: cipherFor(keyring) })
    : undefined;
  if (!publisher) logger.warn('NATS_URL unset: events are not published to the event stream');
  const { startRecordIntakeSweeper } = await import('./records/intake.ts');
  const recordSweeper = startRecordIntakeSweeper({ prisma, temporal, config });
  onShutdown(async () => worker.shutdown());
  await worker.run();
  await relay.stop();
  await publisher?.stop();
  await sweeper.stop();
  await recordSweeper.stop();
  await metrics?.close();
  await temporal.connection.close();
  providers.shutdown();
  await connection.close();
  await prisma.$disconnect();
}

if (isMain(import.meta.url)) await main();
