import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { providerSimApp } from './app.ts';
import type { ProviderSimOptions } from './options.ts';
import type { Logger } from 'pino';
import { isMain, onShutdown } from '../main.ts';
import { createLogger } from '../observability/logger.ts';

// Providers' requests are small; anything bigger is a client bug.
const bodyLimitBytes = 64 * 1024;

export async function startProviderSim(
  host: string,
  port: number,
  options: ProviderSimOptions = {},
  logger?: Logger,
): Promise<FastifyInstance> {
  // Logs when given a logger (its own process, npm start); the suites run it silent.
  const server = Fastify({
    ...(logger ? { loggerInstance: logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: bodyLimitBytes,
  });
  await server.register(providerSimApp, options);
  await server.listen({ host, port });
  return server;
}

if (isMain(import.meta.url)) {
  const { loadConfig } = await import('../config.ts');
  const { simOptionsFromEnv } = await import('./options.ts');
  const config = loadConfig();
  const logger = createLogger('provider-sim');
  const server = await startProviderSim(config.host, config.providerSimPort, simOptionsFromEnv(), logger);
  logger.info({ url: `http://${config.host}:${config.providerSimPort}` }, 'provider simulator started');
  onShutdown(() => server.close());
}
