import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDependencies } from '../dependencies.ts';
import type { Prisma } from '../../db/prisma.ts';
import { isEventTypeFilter } from '../../events/catalog.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { newId } from '../../ids.ts';
import { presentEvent } from '../../events/present.ts';
import { openEvent } from '../../events/event-secrets.ts';
import { cipherFor } from '../../crypto/column-cipher.ts';
import { requireKeyring } from '../../config.ts';
import { deliveryInclude, presentDelivery, startDeliveryWorkflow } from '../../webhooks/deliveries.ts';
import { IdParams, withErrors } from '../schemas/common.ts';
import { Event, EventList, EventListQuery, RedeliveryList, type RedeliverySkipReason } from '../schemas/events.ts';
import { listPage, pageRequest, presentList } from '../list-pages.ts';

// The merchant's outbound events (the outbox), newest first, and redelivery of the ones whose
// last delivery to an endpoint failed. Their data's sensitive fields are decrypted on the way out
// (src/events/event-secrets.ts).

export async function eventRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { prisma } = deps;
  const cipher = () => cipherFor(requireKeyring(deps.config));

  const ownEvent = async (merchantId: string, id: string) => {
    const event = await prisma.event.findFirst({ where: { id, merchantId } });
    if (!event) throw new PaymentsError('resource_missing', `No such event: '${id}'.`, 'id');
    return event;
  };

  app.get(
    '/v1/events',
    { schema: { tags: ['events'], querystring: EventListQuery, response: withErrors({ 200: EventList }) } },
    async (request) => {
      const { merchantId, query } = request;
      const where: Prisma.EventWhereInput = { merchantId };
      if (query.type !== undefined && !isEventTypeFilter(query.type)) {
        throw new PaymentsError(
          'parameter_invalid',
          `No event type is '${query.type}'; see the event types in the API docs.`,
          'type',
        );
      }
      if (query.type) where.type = query.type.endsWith('.*') ? { startsWith: query.type.slice(0, -1) } : query.type;
      const page = await listPage(
        pageRequest(query),
        {
          position: (id) =>
            prisma.event.findFirst({ where: { id, merchantId }, select: { id: true, createdAt: true } }),
          rows: (page) => prisma.event.findMany({ ...page, where: { AND: [where, page.where] } }),
        },
        'event',
      );
      const opener = cipher();
      return presentList(page, (event) => presentEvent(openEvent(opener, event)));
    },
  );

  app.get(
    '/v1/events/:id',
    { schema: { tags: ['events'], params: IdParams, response: withErrors({ 200: Event }) } },
    async (request) => presentEvent(openEvent(cipher(), await ownEvent(request.merchantId, request.params.id))),
  );

  app.post(
    '/v1/events/:id/redeliver',
    { schema: { tags: ['events'], params: IdParams, response: withErrors({ 200: RedeliveryList }) } },
    async (request) => {
      const event = await ownEvent(request.merchantId, request.params.id);
      const deliveries = await prisma.webhookDelivery.findMany({
        where: { eventId: event.id },
        orderBy: [{ endpointId: 'asc' }, { generation: 'desc' }],
        select: { endpointId: true, generation: true, status: true, endpoint: { select: { status: true } } },
      });
      // Per endpoint, the latest generation decides: a finished one (failed, or delivered: a
      // receiver that lost it may ask again) is sent again to an endpoint that still takes
      // deliveries; the answer says why each other endpoint was skipped.
      const latest = new Map<string, (typeof deliveries)[number]>();
      for (const delivery of deliveries)
        if (!latest.has(delivery.endpointId)) latest.set(delivery.endpointId, delivery);
      const judged = [...latest.values()].map((delivery) => ({ delivery, reason: redeliverySkipReason(delivery) }));
      const skipped = judged.flatMap(({ delivery, reason }) =>
        reason ? [{ endpoint_id: delivery.endpointId, reason }] : [],
      );
      const again = judged.filter(({ reason }) => reason === undefined).map(({ delivery }) => delivery);
      if (again.length === 0) return { object: 'list' as const, data: [], skipped };

      const next = again.map((delivery) => ({ endpointId: delivery.endpointId, generation: delivery.generation + 1 }));
      // A concurrent redeliver of the same event makes the same rows: one wins, both answer them.
      await prisma.webhookDelivery.createMany({
        data: next.map((pair) => ({ id: newId('wd'), eventId: event.id, ...pair })),
        skipDuplicates: true,
      });
      const created = await prisma.webhookDelivery.findMany({
        where: { eventId: event.id, OR: next },
        orderBy: { endpointId: 'asc' },
        include: deliveryInclude,
      });
      for (const delivery of created) {
        if (delivery.status === 'pending') await startDeliveryWorkflow(deps.temporal, deps.config, delivery.id);
      }
      return { object: 'list' as const, data: created.map(presentDelivery), skipped };
    },
  );
}

/** Why redelivery leaves this endpoint out, or undefined when it sends the event again. */
function redeliverySkipReason(delivery: {
  status: string;
  endpoint: { status: string };
}): RedeliverySkipReason | undefined {
  if (delivery.endpoint.status === 'deleted') return 'endpoint_deleted';
  if (delivery.endpoint.status !== 'enabled') return 'endpoint_disabled';
  if (delivery.status === 'pending') return 'delivery_in_progress';
  return undefined;
}
