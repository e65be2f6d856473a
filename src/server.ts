import type { FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Config } from './config.ts';
import type { PrismaClient } from './db/prisma.ts';
import { buildApp } from './api/build.ts';
import { isMain, onShutdown } from './main.ts';
import { createLogger } from './observability/logger.ts';

/** Builds the API and listens; the caller owns prisma and the Temporal client. */
export async function startServer(config: Config, prisma: PrismaClient, temporal: Client): Promise<FastifyInstance> {
  const server = await buildApp(
    { prisma, temporal, config },
    {
      logger: createLogger('api'),
      bodyLimitBytes: config.bodyLimitBytes,
      requestTimeoutMs: config.requestTimeoutMs,
    },
  );
  await server.listen({ host: config.host, port: config.port });
  return server;
}

async function main(): Promise<void> {
  const { loadConfig, requireKeyring } = await import('./config.ts');
  const { createPrisma } = await import('./db/prisma.ts');
  const { connectClient } = await import('./temporal/client.ts');
  const config = loadConfig();
  if (!config.databaseUrl || !config.temporalAddress) {
    throw new Error('src/server.ts alone needs DATABASE_URL and TEMPORAL_ADDRESS; `npm start` sets up both.');
  }
  const prisma = createPrisma(config.databaseUrl, config.databasePoolSize);
  const temporal = await connectClient(config.temporalAddress, config.temporalNamespace, requireKeyring(config));
  const server = await startServer(config, prisma, temporal);
  onShutdown(async () => {
    await server.close();
    await temporal.connection.close();
    await prisma.$disconnect();
  });
}

if (isMain(import.meta.url)) await main();
