import type { FastifyInstance } from 'fastify';
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormats from 'ajv-formats';
import { adminRoutes } from './admin.ts';
import type { ProviderSimOptions } from './options.ts';
import { paypalRoutes } from './paypal.ts';
import { createSimulator } from './simulator.ts';
import { stripeRoutes } from './stripe.ts';

function makeAjv(options: AjvOptions): Ajv {
  const ajv = new Ajv({ allErrors: false, strict: false, removeAdditional: false, useDefaults: true, ...options });
  addFormats.default(ajv);
  return ajv;
}

// Bodies are checked as sent, like the real APIs do ("100" is not an amount); query strings
// and path parameters arrive as text and are coerced.
const bodyAjv = makeAjv({ coerceTypes: false });
const textAjv = makeAjv({ coerceTypes: 'array' });

/**
 * The simulated card processor: a Stripe personality under /stripe, a PayPal one under
 * /paypal, the test harness's /admin routes and /health. State lives in memory, per instance.
 */
export async function providerSimApp(app: FastifyInstance, options: ProviderSimOptions = {}): Promise<void> {
  const sim = createSimulator(options);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));
  // Before the server waits for open requests: held-open tok_timeout requests and pending
  // webhook retries end now instead of delaying shutdown.
  app.addHook('preClose', async () => sim.close());

  app.get('/health', async () => ({ status: 'ok' as const, personalities: ['stripe', 'paypal'] }));
  await app.register(adminRoutes, { sim });
  await app.register(stripeRoutes, { prefix: '/stripe', sim });
  await app.register(paypalRoutes, { prefix: '/paypal', sim });
}
