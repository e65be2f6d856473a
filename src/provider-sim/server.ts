import Fastify, { type FastifyInstance } from 'fastify';
import { providerSimApp } from './app.ts';
import type { ProviderSimOptions } from './options.ts';
import { isMain, onShutdown } from '../main.ts';

// Providers' requests are small; anything bigger is a client bug.
const bodyLimitBytes = 64 * 1024;

export async function startProviderSim(
  host: string,
  port: number,
  options: ProviderSimOptions = {},
): Promise<FastifyInstance> {
  const server = Fastify({ logger: false, bodyLimit: bodyLimitBytes });
  await server.register(providerSimApp, options);
  await server.listen({ host, port });
  return server;
}

if (isMain(import.meta.url)) {
  const { loadConfig } = await import('../config.ts');
  const { simOptionsFromEnv } = await import('./options.ts');
  const config = loadConfig();
  const server = await startProviderSim(config.host, config.providerSimPort, simOptionsFromEnv());
  process.stderr.write(`provider simulator on http://${config.host}:${config.providerSimPort}\n`);
  onShutdown(() => server.close());
}
