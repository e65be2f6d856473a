import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import rateLimit from '@fastify/rate-limit';
import type { AppDependencies } from './dependencies.ts';
import { registerErrorHandling } from './errors.ts';
import { registerOpenApi } from './openapi/document.ts';
import { ErrorResponse } from './schemas/common.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsPath, metricsRoutes } from './routes/metrics.ts';
import { adminScope, merchantScope } from './merchant-scope.ts';
import { inboundWebhookRoutes } from './routes/webhooks-inbound.ts';
import { recordWebhookRoutes } from './routes/webhooks-records.ts';
import { hashApiKey, presentedKey } from './auth.ts';
import { createAuthFailureLimiter } from './auth-failures.ts';
import { assertStorable } from './storable-text.ts';
import { codecRoutes } from './routes/codec.ts';

export type { AppDependencies };

export type App = FastifyInstance;

/** The API as a plugin: server.ts listens, tests call app.inject. */
export async function app(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const api = fastify.withTypeProvider<TypeBoxTypeProvider>();
  api.addSchema(ErrorResponse);
  registerErrorHandling(api);

  await registerOpenApi(api);

  await api.register(rateLimit, {
    max: deps.config.rateLimitPerSecond,
    timeWindow: 1_000,
    // Limits each API key (hashed, never logged raw), read the way authentication reads it, so
    // respelling the header (`bearer`, extra spaces, a tab) is the same key; anonymous callers
    // share their address. Failed keys also count against the address (src/api/auth-failures.ts).
    keyGenerator: (request) => {
      const key = presentedKey(request);
      return key ? `key:${hashApiKey(key)}` : `ip:${request.ip}`;
    },
    // Providers' webhooks are signed and deduplicated; throttling them would only delay money.
    allowList: (request) =>
      request.url === '/health' ||
      request.url === '/ready' ||
      request.url === metricsPath ||
      request.url.startsWith('/v1/webhooks/'),
    // Thrown into the one error handler, which answers in the common error shape.
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`Too many requests; retry after ${context.after}.`), { statusCode: context.statusCode }),
  });

  // Text PostgreSQL cannot store is refused before any route reads it (src/api/storable-text.ts).
  api.addHook('preValidation', async (request) => {
    assertStorable(request.params);
    assertStorable(request.query);
    if (typeof request.body !== 'string') assertStorable(request.body);
  });

  await api.register(healthRoutes, deps);
  await api.register(metricsRoutes);
  const authFailures = createAuthFailureLimiter(deps.config.authFailuresPerMinute);
  await api.register(codecRoutes, { ...deps, authFailures });
  await api.register(adminScope, { ...deps, authFailures });
  await api.register(merchantScope, { ...deps, authFailures });
  await api.register(inboundWebhookRoutes, deps);
  await api.register(recordWebhookRoutes, deps);
}
