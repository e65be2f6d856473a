import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppDependencies } from '../dependencies.ts';
import { withErrors } from '../schemas/common.ts';
import { StagingBacklog, stagingBacklog } from '../../stats/staging-backlog.ts';
import { LastImportRun, lastImportRun } from '../../stats/last-import-run.ts';

const readyTimeoutMs = 2_000;
/** /ready is polled every few seconds: it counts a backlog only this far (GET /v1/admin/stats further). */
const readyMaxBacklogRowsCounted = 10_000;

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

/**
 * The import's figures, for operators reading /ready: informative only. Both queries run in one
 * transaction whose statement_timeout is the readiness timeout, so a slow database stops them
 * itself rather than piling up work behind repeated probes; null when they could not be read.
 */
async function importFigures(
  deps: AppDependencies,
): Promise<{ backlog: StagingBacklog; lastRun: LastImportRun } | null> {
  try {
    return await withTimeout(
      deps.prisma.$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT set_config('statement_timeout', ${String(readyTimeoutMs)}, true)`;
          const backlog = await stagingBacklog(tx, readyMaxBacklogRowsCounted);
          return { backlog, lastRun: await lastImportRun(tx) };
        },
        { maxWait: readyTimeoutMs, timeout: readyTimeoutMs },
      ),
      readyTimeoutMs,
    );
  } catch {
    return null;
  }
}

const Status = Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]);
const Ready = Type.Object({
  /** ok when PostgreSQL and Temporal answer; the import's figures below never change it. */
  status: Status,
  checks: Type.Object({ postgres: Status, temporal: Status }),
  staging_backlog: Type.Union([StagingBacklog, Type.Null()], {
    description: 'Unprocessed staged rows, counted up to 10,000; null when they could not be read in time.',
  }),
  /** The newest import run; null before the first, or when it could not be read in time. */
  last_import_run: LastImportRun,
});

export async function healthRoutes(app: FastifyInstance, deps: AppDependencies): Promise<void> {
  app.get(
    '/health',
    { schema: { response: withErrors({ 200: Type.Object({ status: Type.Literal('ok') }) }) } },
    async () => ({
      status: 'ok' as const,
    }),
  );

  // Readiness says whether this process can serve requests. A staging backlog is the worker's
  // work, not the API's trouble: taking the API out of rotation for it would only add an
  // outage to a delay, so the backlog and the last run are reported and never make it 503.
  app.get('/ready', { schema: { response: withErrors({ 200: Ready, 503: Ready }) } }, async (_request, reply) => {
    const [postgres, temporal, imports] = await Promise.all([
      probe(() => deps.prisma.$queryRaw`SELECT 1`),
      // The gRPC deadline ends the call itself; the timeout in probe() only stops our waiting for it.
      probe(() =>
        deps.temporal.withDeadline(Date.now() + readyTimeoutMs, () => deps.temporal.workflowService.getSystemInfo({})),
      ),
      importFigures(deps),
    ]);
    const ready = postgres === 'ok' && temporal === 'ok';
    return reply.status(ready ? 200 : 503).send({
      status: ready ? 'ok' : 'unavailable',
      checks: { postgres, temporal },
      staging_backlog: imports?.backlog ?? null,
      last_import_run: imports?.lastRun ?? null,
    });
  });
}
