import Fastify, { type FastifyInstance } from 'fastify';
import { providerSimApp } from './app.ts';
import { isMain, onShutdown } from '../main.ts';

export async function startProviderSim(host: string, port: number): Promise<FastifyInstance> {
  const server = Fastify({ logger: false });
  await server.register(providerSimApp);
  await server.listen({ host, port });
  return server;
}

if (isMain(import.meta.url)) {
  const { loadConfig } = await import('../config.ts');
  const config = loadConfig();
  const server = await startProviderSim(config.host, config.providerSimPort);
  process.stderr.write(`provider simulator on http://${config.host}:${config.providerSimPort}\n`);
  onShutdown(() => server.close());
}
