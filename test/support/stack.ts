import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { buildApp } from '../../src/api/build.ts';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.ts';
import { connectClient } from '../../src/temporal/client.ts';
import { createWorker } from '../../src/worker.ts';
import { loadConfig, type Config } from '../../src/config.ts';

export interface Stack {
  app: FastifyInstance;
  prisma: PrismaClient;
  temporal: Client;
  taskQueue: string;
  adminApiKey: string;
  /** Creates a merchant through the API and returns its id and key. */
  merchant(): Promise<{ id: string; apiKey: string }>;
  close(): Promise<void>;
}

/**
 * The real stack for one suite: API (via app.inject), a worker on the suite's own task
 * queue, the shared Temporal dev server and the run's PostgreSQL database. No mocks.
 */
// Business failures (declines, insufficient funds) are logged by the SDK at WARN; tests expect them.
process.env.TEMPORAL_LOG_LEVEL ??= 'ERROR';

export async function startStack(suite: string, overrides: Partial<Config> = {}): Promise<Stack> {
  const taskQueue = `test-${suite}-${randomUUID()}`;
  const adminApiKey = `sk_admin_${randomUUID()}`;
  const config: Config = { ...loadConfig(), taskQueue, adminApiKey, depositWaitMs: 10_000, ...overrides };
  const prisma = createPrisma(inject('databaseUrl'), 20);
  const temporal = await connectClient(inject('temporalAddress'), config.temporalNamespace);
  const { worker, connection } = await createWorker({
    address: inject('temporalAddress'),
    namespace: config.temporalNamespace,
    taskQueue,
    prisma,
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
  const workerRun = worker.run();
  const app = await buildApp(
    { prisma, temporal, config },
    { logger: false, bodyLimitBytes: config.bodyLimitBytes, requestTimeoutMs: config.requestTimeoutMs },
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
    return { id: body.id, apiKey: body.api_key };
  };

  const close = async () => {
    await app.close();
    stopWorker(worker);
    await workerRun;
    await connection.close();
    await temporal.connection.close();
    await prisma.$disconnect();
  };
  return { app, prisma, temporal, taskQueue, adminApiKey, merchant, close };
}

function stopWorker(worker: Worker): void {
  if (worker.getState() === 'RUNNING') worker.shutdown();
}

export function bearer(apiKey: string): { authorization: string } {
  return { authorization: `Bearer ${apiKey}` };
}
