import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { httpRequestDuration, metricsRegistry } from '../../observability/metrics.ts';
import { withErrors } from '../schemas/common.ts';

const PrometheusText = Type.String({ description: 'Prometheus text exposition format 0.0.4.' });

/** The path Prometheus scrapes; not rate limited, not in the API reference, not timed itself. */
export const metricsPath = '/metrics';

/** Times every request; on the root instance (src/api/build.ts) so 404s and every route are seen. */
export function timeRequests(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern (/v1/payments/:id), never the URL: one series per route, not per id.
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === metricsPath) return;
    httpRequestDuration.observe(
      { method: request.method, route, status_code: reply.statusCode },
      reply.elapsedTime / 1_000,
    );
  });
}

/**
 * GET /metrics in the Prometheus text format. Unauthenticated, as scrapers expect: it names
 * routes and counts, never a merchant, payment or key; keep it off the public internet
 * (docs/operations.md).
 */
export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    metricsPath,
    { schema: { hide: true, response: withErrors({ 200: PrometheusText }) } },
    async (_request, reply) => {
      const text = await metricsRegistry.metrics();
      return reply.type(metricsRegistry.contentType).send(text);
    },
  );
}
