import type { FastifyInstance } from 'fastify';

/**
 * The simulated card processor (stripe and paypal personalities come with the payments
 * issue). For now it answers health, so every process of the stack starts and is checked.
 */
export async function providerSimApp(app: FastifyInstance): Promise<void> {
  app.get('/health', async () => ({ status: 'ok' as const, personalities: ['stripe', 'paypal'] }));
}
