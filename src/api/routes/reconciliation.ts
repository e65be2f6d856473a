import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDependencies } from '../dependencies.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { isCurrencyCode } from '../../domain/money.ts';
import {
  reconciliationWorkflowId,
  utcDayOf,
  utcDayStartMs,
  type ReconciliationTarget,
} from '../../domain/reconciliation.ts';
import { IdParams, withErrors } from '../schemas/common.ts';
import {
  CreateRunBody,
  ItemList,
  ItemListQuery,
  ReconciliationItem,
  ReconciliationRun,
  ResolveItemBody,
  RunList,
  RunListQuery,
} from '../schemas/reconciliation.ts';
import { deadlineAfter } from '../answer-deadlines.ts';
import { callBefore, temporalUnavailable } from '../temporal-deadlines.ts';
import { findRun, listRuns, reconciliationRunId, unopenedRun } from '../../reconciliation/runs.ts';
import { findItem, listItems, resolveItem } from '../../reconciliation/items.ts';
import type { reconciliationWorkflow } from '../../../workflows/reconciliation.ts';

// Reconciliation (admin): run one provider's report for a currency and day now (the schedule
// runs the previous day's every night, src/temporal/reconciliation-schedule.ts), inspect runs
// and their items, resolve an item with a note.

/** How long POST waits for Temporal to take the run: a start, not the run itself. */
const startWaitMs = 10_000;

/** The day to reconcile: a calendar date that has begun. */
function checkedDay(date: string): string {
  const startMs = utcDayStartMs(date);
  if (startMs === undefined) throw new PaymentsError('parameter_invalid', `${date} is not a calendar date.`, 'date');
  if (date > utcDayOf(Date.now())) {
    throw new PaymentsError('parameter_invalid', `${date} has not begun (days are UTC).`, 'date');
  }
  return date;
}

export async function reconciliationRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  const ownRun = async (id: string) => {
    const run = await findRun(deps.prisma, id);
    if (!run) throw new PaymentsError('resource_missing', `No such reconciliation run: '${id}'.`, 'id');
    return run;
  };

  app.post(
    '/v1/reconciliation/runs',
    { schema: { tags: ['admin'], body: CreateRunBody, response: withErrors({ 202: ReconciliationRun }) } },
    async (request, reply) => {
      const { provider, currency } = request.body;
      if (!isCurrencyCode(currency)) {
        throw new PaymentsError('parameter_invalid', `Unknown ISO 4217 currency: ${currency}.`, 'currency');
      }
      const target: ReconciliationTarget = { provider, currency, date: checkedDay(request.body.date) };
      const deadline = deadlineAfter(reply, startWaitMs);
      const started = await callBefore(deps.temporal, deadline, () =>
        deps.temporal.workflow.start<typeof reconciliationWorkflow>('reconciliationWorkflow', {
          workflowId: reconciliationWorkflowId(target),
          taskQueue: deps.config.taskQueue,
          args: [target],
          // One run of a day at a time: a request while it runs joins it; after it, runs it again.
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        }),
      );
      if (!started) throw temporalUnavailable('The reconciliation could not be started in time; retry.');
      // Started or joined just now: running, whatever its previous execution ended as.
      const run = (await findRun(deps.prisma, reconciliationRunId(target))) ?? unopenedRun(target);
      return reply.status(202).send({ ...run, status: 'running', completed_at: null });
    },
  );

  app.get(
    '/v1/reconciliation/runs',
    { schema: { tags: ['admin'], querystring: RunListQuery, response: withErrors({ 200: RunList }) } },
    async (request) => {
      const { provider, currency, date, status, limit, starting_after: startingAfter } = request.query;
      const page = await listRuns(deps.prisma, {
        provider,
        currency,
        date: date === undefined ? undefined : checkedDay(date),
        status,
        limit,
        startingAfter,
      });
      if (!page) {
        throw new PaymentsError('resource_missing', 'No such reconciliation run for starting_after.', 'starting_after');
      }
      return { object: 'list' as const, has_more: page.hasMore, data: page.data };
    },
  );

  app.get(
    '/v1/reconciliation/runs/:id',
    { schema: { tags: ['admin'], params: IdParams, response: withErrors({ 200: ReconciliationRun }) } },
    async (request) => ownRun(request.params.id),
  );

  app.get(
    '/v1/reconciliation/runs/:id/items',
    {
      schema: {
        tags: ['admin'],
        params: IdParams,
        querystring: ItemListQuery,
        response: withErrors({ 200: ItemList }),
      },
    },
    async (request) => {
      const run = await ownRun(request.params.id);
      const { kind, status, limit, starting_after: startingAfter } = request.query;
      const page = await listItems(deps.prisma, { runId: run.id, kind, status, limit, startingAfter });
      return { object: 'list' as const, has_more: page.hasMore, data: page.data };
    },
  );

  app.get(
    '/v1/reconciliation/items/:id',
    { schema: { tags: ['admin'], params: IdParams, response: withErrors({ 200: ReconciliationItem }) } },
    async (request) => {
      const item = await findItem(deps.prisma, request.params.id);
      if (!item)
        throw new PaymentsError('resource_missing', `No such reconciliation item: '${request.params.id}'.`, 'id');
      return item;
    },
  );

  app.post(
    '/v1/reconciliation/items/:id/resolve',
    {
      schema: {
        tags: ['admin'],
        params: IdParams,
        body: ResolveItemBody,
        response: withErrors({ 200: ReconciliationItem }),
      },
    },
    async (request) => resolveItem(deps.prisma, request.params.id, request.body.note),
  );
}
