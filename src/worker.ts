import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createActivities } from '../activities/index.ts';
import type { PrismaClient } from './db/prisma.ts';
import type { ProviderGateway } from './providers/provider.ts';
import { dataConverter } from './temporal/data-converter.ts';
import { defaultWorkerTuning, type WorkerTuning } from './temporal/worker-tuning.ts';
import { isMain, onShutdown } from './main.ts';

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  prisma: PrismaClient;
  providers: ProviderGateway;
  /** Activities signal workflows through it (provider events to their payment). */
  temporal: Client;
  workflowBundle: WorkflowBundleOption;
  tuning?: WorkerTuning;
  /** WEBHOOK_ALLOW_PRIVATE_DESTINATIONS; default false: webhooks reach public addresses only. */
  allowPrivateWebhookDestinations?: boolean;
}

let runtimeInstalled = false;

/** The SDK logs every worker state change at INFO; WARN keeps test and dev output readable. */
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL as 'WARN' | 'ERROR' | undefined) ?? 'WARN'),
  });
}

export async function createWorker(options: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime();
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
    }),
    dataConverter,
    maxCachedWorkflows: tuning.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: tuning.maxConcurrentWorkflowTasks,
    maxConcurrentLocalActivityExecutions: tuning.maxConcurrentLocalActivities,
    maxConcurrentActivityTaskExecutions: tuning.maxConcurrentActivities,
    shutdownGraceTime: '10 seconds',
  });
  return { worker, connection };
}

async function main(): Promise<void> {
  const { loadConfig } = await import('./config.ts');
  const { createPrisma } = await import('./db/prisma.ts');
  const config = loadConfig();
  if (!config.databaseUrl || !config.temporalAddress) {
    throw new Error('src/worker.ts alone needs DATABASE_URL and TEMPORAL_ADDRESS; `npm start` sets up both.');
  }
  const prisma = createPrisma(config.databaseUrl, config.databasePoolSize);
  const { createProviderGateway } = await import('./providers/index.ts');
  const { ensureWorkflowBundle } = await import('./temporal/workflow-bundle.ts');
  const providers = createProviderGateway(config);
  // The outbox relay lives with the worker: it needs PostgreSQL and Temporal, like activities.
  const { connectClient } = await import('./temporal/client.ts');
  const { startEventRelay } = await import('./events/relay.ts');
  const temporal = await connectClient(config.temporalAddress, config.temporalNamespace);
  const { worker, connection } = await createWorker({
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
  });
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
  const publisher = config.natsUrl ? startEventStreamPublisher({ prisma, config, natsUrl: config.natsUrl }) : undefined;
  if (!publisher) process.stderr.write('[worker] NATS_URL unset: events are not published to the event stream\n');
  const { startRecordIntakeSweeper } = await import('./records/intake.ts');
  const recordSweeper = startRecordIntakeSweeper({ prisma, temporal, config });
  onShutdown(async () => worker.shutdown());
  await worker.run();
  await relay.stop();
  await publisher?.stop();
  await sweeper.stop();
  await recordSweeper.stop();
  await temporal.connection.close();
  providers.shutdown();
  await connection.close();
  await prisma.$disconnect();
}

if (isMain(import.meta.url)) await main();
