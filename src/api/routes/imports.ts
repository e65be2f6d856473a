import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDependencies } from '../dependencies.ts';
import { PaymentsError } from '../../domain/errors.ts';
import type { ImportProgress } from '../../domain/import-progress.ts';
import { IdParams, withErrors } from '../schemas/common.ts';
import { deadlineAfter } from '../answer-deadlines.ts';
import { callBefore, temporalUnavailable } from '../temporal-deadlines.ts';
import { ImportRunSchema, findImportRun, listImportRuns, type ImportRunView } from '../../records/import-runs.ts';
import { importInput } from '../../temporal/import-schedule.ts';
import type { importWorkflow } from '../../../workflows/import.ts';

const ImportRunList = Type.Object({
  object: Type.Literal('list'),
  has_more: Type.Boolean(),
  data: Type.Array(ImportRunSchema),
});

const ImportListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    starting_after: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

/** The running workflow's own count, for a run whose first batch has not committed yet. */
function fromProgress(progress: ImportProgress): ImportRunView {
  return {
    id: progress.runId,
    object: 'import_run',
    status: progress.status,
    batches: progress.batches,
    rows: progress.rows,
    recorded: progress.recorded,
    duplicates: progress.duplicates,
    invalid: progress.invalid,
    last_staging_id: progress.afterId === 0n ? null : progress.afterId.toString(),
    batch_time_ms: 0,
    error: null,
    started_at: new Date().toISOString(),
    finished_at: null,
  };
}

// Imports of staged payments (admin): start one now (or join the running one: the import has a
// fixed workflow id), and inspect runs. The schedule starts them too (src/temporal/import-schedule.ts).
export async function importRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/v1/imports',
    { schema: { tags: ['admin'], response: withErrors({ 202: ImportRunSchema }) } },
    async (_request, reply) => {
      const deadline = deadlineAfter(reply, deps.config.depositWaitMs);
      const progress = await callBefore(deps.temporal, deadline, async () => {
        const handle = await deps.temporal.workflow.start<typeof importWorkflow>('importWorkflow', {
          workflowId: deps.config.importWorkflowId,
          taskQueue: deps.config.taskQueue,
          args: [importInput(deps.config)],
          // One import at a time: a request while one runs joins it.
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        });
        return handle.query<ImportProgress>('progress');
      });
      if (!progress) throw temporalUnavailable('The import could not be started in time; retry.');
      const stored = await findImportRun(deps.prisma, progress.runId);
      return reply.status(202).send(stored ?? fromProgress(progress));
    },
  );

  app.get(
    '/v1/imports',
    { schema: { tags: ['admin'], querystring: ImportListQuery, response: withErrors({ 200: ImportRunList }) } },
    async (request) => {
      const page = await listImportRuns(deps.prisma, {
        limit: request.query.limit,
        startingAfter: request.query.starting_after,
      });
      return { object: 'list' as const, has_more: page.hasMore, data: page.data };
    },
  );

  app.get(
    '/v1/imports/:id',
    { schema: { tags: ['admin'], params: IdParams, response: withErrors({ 200: ImportRunSchema }) } },
    async (request) => {
      const run = await findImportRun(deps.prisma, request.params.id);
      if (!run) throw new PaymentsError('resource_missing', `No such import run: '${request.params.id}'.`, 'id');
      return run;
    },
  );
}
