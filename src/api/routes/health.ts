import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppDependencies } from '../dependencies.ts';
import { withErrors } from '../schemas/common.ts';

const readyTimeoutMs = 2_000;

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs).unref(),
    ),
  ]);
}

async function probe(check: () => Promise<unknown>): Promise<'ok' | 'unavailable'> {
  try {
    await withTimeout(check(), readyTimeoutMs);
    return 'ok';
  } catch {
    return 'unavailable';
  }
}

const Status = Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]);
const Ready = Type.Object({ status: Status, checks: Type.Object({ postgres: Status, temporal: Status }) });

export async function healthRoutes(app: FastifyInstance, deps: AppDependencies): Promise<void> {
  app.get(
    '/health',
    { schema: { hide: true, response: withErrors({ 200: Type.Object({ status: Type.Literal('ok') }) }) } },
    async () => ({
      status: 'ok' as const,
    }),
  );

  app.get(
    '/ready',
    { schema: { hide: true, response: withErrors({ 200: Ready, 503: Ready }) } },
    async (_request, reply) => {
      const [postgres, temporal] = await Promise.all([
        probe(() => deps.prisma.$queryRaw`SELECT 1`),
        // The gRPC deadline ends the call itself; the timeout in probe() only stops our waiting for it.
        probe(() =>
          deps.temporal.withDeadline(Date.now() + readyTimeoutMs, () =>
            deps.temporal.workflowService.getSystemInfo({}),
          ),
        ),
      ]);
      const ready = postgres === 'ok' && temporal === 'ok';
      return reply
        .status(ready ? 200 : 503)
        .send({ status: ready ? 'ok' : 'unavailable', checks: { postgres, temporal } });
    },
  );
}
