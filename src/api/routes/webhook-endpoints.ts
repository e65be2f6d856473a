import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDependencies } from '../dependencies.ts';
import type { Prisma } from '../../db/prisma.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { listPage, pageRequest, presentList } from '../list-pages.ts';
import {
  checkEndpointUrl,
  checkEventTypes,
  maxEndpointsPerMerchant,
  merchantDisabledReason,
  newEndpointSecret,
  presentEndpoint,
} from '../../webhooks/endpoints.ts';
import { deliveryInclude, presentDelivery, startDeliveryWorkflow } from '../../webhooks/deliveries.ts';
import { outboxRow } from '../../events/outbox.ts';
import { newId, randomToken } from '../../ids.ts';
import { idempotencySettings, idempotentIfKeyed, type StoredResponse } from '../idempotency.ts';
import { IdParams, OptionalIdempotencyHeaders, withErrors } from '../schemas/common.ts';
import { Delivery, DeliveryList } from '../schemas/events.ts';
import { cipherFor } from '../../crypto/column-cipher.ts';
import { requireKeyring } from '../../config.ts';
import {
  CreateWebhookEndpointBody,
  DeletedWebhookEndpoint,
  DeliveryListQuery,
  ListQuery,
  RollWebhookSecretBody,
  UpdateWebhookEndpointBody,
  WebhookEndpoint,
  WebhookEndpointList,
} from '../schemas/webhook-endpoints.ts';

// Where a merchant's events are sent. The signing secret is shown once, at creation. A deleted
// endpoint is gone for the API (404) and receives nothing more; its rows stay for the history.

const endpointTransactionOptions = { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 } as const;

export async function webhookEndpointRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { prisma } = deps;
  const policy = { allowPrivateDestinations: deps.config.webhookAllowPrivateDestinations };

  /** The merchant's endpoint unless deleted; 404 for unknown, deleted and other merchants'. */
  const ownEndpoint = async (merchantId: string, id: string) => {
    const endpoint = await prisma.webhookEndpoint.findFirst({ where: { id, merchantId, status: { not: 'deleted' } } });
    if (!endpoint) throw new PaymentsError('resource_missing', `No such webhook endpoint: '${id}'.`, 'id');
    return endpoint;
  };

  app.post(
    '/v1/webhook_endpoints',
    {
      schema: {
        tags: ['webhook endpoints'],
        headers: OptionalIdempotencyHeaders,
        body: CreateWebhookEndpointBody,
        response: withErrors({ 201: WebhookEndpoint }),
      },
    },
    async (request, reply) => {
      const { merchantId, body } = request;
      const url = checkEndpointUrl(body.url, policy);
      const events = checkEventTypes(body.events);
      const create = async () => {
        const secret = newEndpointSecret();
        const endpoint = await prisma.$transaction(async (tx) => {
          // One creation at a time per merchant, so two at the cap cannot both see room for one
          // more. A transaction-scoped advisory lock: no row is locked, nothing else waits on it.
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`webhook_endpoints:${merchantId}`}, 0))`;
          const existing = await tx.webhookEndpoint.count({ where: { merchantId, status: { not: 'deleted' } } });
          if (existing >= maxEndpointsPerMerchant) {
            throw new PaymentsError(
              'webhook_endpoint_limit_reached',
              `A merchant can have at most ${maxEndpointsPerMerchant} webhook endpoints; delete one before adding another.`,
            );
          }
          // Stored encrypted: signing needs it in the clear, so it cannot be a hash.
          const sealed = cipherFor(requireKeyring(deps.config)).seal('webhook_endpoints.secret', secret);
          return tx.webhookEndpoint.create({ data: { id: newId('we'), merchantId, url, events, secret: sealed } });
        }, endpointTransactionOptions);
        return { status: 201, body: presentEndpoint(endpoint, secret) } satisfies StoredResponse;
      };
      // A retried creation with the same Idempotency-Key answers the first endpoint, not a twin.
      return idempotentIfKeyed(prisma, idempotencySettings(deps.config), request, reply, merchantId, create);
    },
  );

  app.get(
    '/v1/webhook_endpoints',
    {
      schema: {
        tags: ['webhook endpoints'],
        querystring: ListQuery,
        response: withErrors({ 200: WebhookEndpointList }),
      },
    },
    async (request) => {
      const { merchantId, query } = request;
      const where: Prisma.WebhookEndpointWhereInput = { merchantId, status: { not: 'deleted' } };
      const page = await listPage(
        pageRequest(query),
        {
          position: (id) =>
            prisma.webhookEndpoint.findFirst({ where: { id, merchantId }, select: { id: true, createdAt: true } }),
          rows: (page) => prisma.webhookEndpoint.findMany({ ...page, where: { AND: [where, page.where] } }),
        },
        'webhook endpoint',
      );
      return presentList(page, (row) => presentEndpoint(row));
    },
  );

  app.get(
    '/v1/webhook_endpoints/:id',
    { schema: { tags: ['webhook endpoints'], params: IdParams, response: withErrors({ 200: WebhookEndpoint }) } },
    async (request) => presentEndpoint(await ownEndpoint(request.merchantId, request.params.id)),
  );

  app.post(
    '/v1/webhook_endpoints/:id',
    {
      schema: {
        tags: ['webhook endpoints'],
        params: IdParams,
        body: UpdateWebhookEndpointBody,
        response: withErrors({ 200: WebhookEndpoint }),
      },
    },
    async (request) => {
      const endpoint = await ownEndpoint(request.merchantId, request.params.id);
      const { body } = request;
      const data: Prisma.WebhookEndpointUpdateManyMutationInput = { updatedAt: new Date() };
      if (body.url !== undefined) data.url = checkEndpointUrl(body.url, policy);
      if (body.events !== undefined) data.events = checkEventTypes(body.events);
      if (body.disabled === true && endpoint.status === 'enabled') {
        Object.assign(data, { status: 'disabled', disabledReason: merchantDisabledReason });
      }
      if (body.disabled === false && endpoint.status === 'disabled') {
        // Back on with a clean slate: past failures no longer count towards disabling it again.
        Object.assign(data, { status: 'enabled', disabledReason: null, consecutiveFailures: 0, failingSince: null });
      }
      // Never resurrects an endpoint deleted meanwhile.
      await prisma.webhookEndpoint.updateMany({ where: { id: endpoint.id, status: { not: 'deleted' } }, data });
      return presentEndpoint(await ownEndpoint(request.merchantId, endpoint.id));
    },
  );

  app.delete(
    '/v1/webhook_endpoints/:id',
    {
      schema: {
        tags: ['webhook endpoints'],
        params: IdParams,
        response: withErrors({ 200: DeletedWebhookEndpoint }),
      },
    },
    async (request) => {
      const endpoint = await ownEndpoint(request.merchantId, request.params.id);
      // Deliveries in progress see the status at their next attempt and stop (endpoint_disabled).
      await prisma.webhookEndpoint.update({
        where: { id: endpoint.id },
        data: { status: 'deleted', updatedAt: new Date() },
      });
      return { id: endpoint.id, object: 'webhook_endpoint' as const, deleted: true as const };
    },
  );

  app.post(
    '/v1/webhook_endpoints/:id/secret/roll',
    {
      schema: {
        tags: ['webhook endpoints'],
        params: IdParams,
        headers: OptionalIdempotencyHeaders,
        body: RollWebhookSecretBody,
        response: withErrors({ 200: WebhookEndpoint }),
      },
    },
    async (request, reply) => {
      const { merchantId, body } = request;
      const endpoint = await ownEndpoint(merchantId, request.params.id);
      const roll = async () => {
        const secret = newEndpointSecret();
        const cipher = cipherFor(requireKeyring(deps.config));
        const now = new Date();
        // The current secret becomes the previous one (a secret rolled before it stops signing
        // now): receivers that still check the old secret keep verifying until it expires.
        const previous = cipher.open('webhook_endpoints.secret', endpoint.secret);
        const expiresAt = new Date(now.getTime() + body.expires_in_seconds * 1000);
        const rolled = await prisma.webhookEndpoint.updateMany({
          where: { id: endpoint.id, status: { not: 'deleted' }, secret: endpoint.secret },
          data: {
            secret: cipher.seal('webhook_endpoints.secret', secret),
            previousSecret: cipher.seal('webhook_endpoints.previous_secret', previous),
            previousSecretExpiresAt: expiresAt,
            updatedAt: now,
          },
        });
        // A concurrent roll won: this one did nothing, and says so rather than show a secret that signs nothing.
        if (rolled.count === 0) {
          throw new PaymentsError('resource_missing', `No such webhook endpoint: '${endpoint.id}'.`, 'id');
        }
        const after = await ownEndpoint(merchantId, endpoint.id);
        return { status: 200, body: presentEndpoint(after, secret) } satisfies StoredResponse;
      };
      // A retried roll with the same Idempotency-Key answers the first roll's secret, not a third one.
      return idempotentIfKeyed(prisma, idempotencySettings(deps.config), request, reply, merchantId, roll);
    },
  );

  app.post(
    '/v1/webhook_endpoints/:id/test',
    { schema: { tags: ['webhook endpoints'], params: IdParams, response: withErrors({ 201: Delivery }) } },
    async (request, reply) => {
      const endpoint = await ownEndpoint(request.merchantId, request.params.id);
      if (endpoint.status !== 'enabled') {
        throw new PaymentsError(
          'webhook_endpoint_unexpected_state',
          'The endpoint is disabled: enable it to send it a test event.',
          'id',
        );
      }
      const event = outboxRow(cipherFor(requireKeyring(deps.config)), {
        merchantId: request.merchantId,
        type: 'webhook_endpoint.test',
        resourceId: endpoint.id,
        data: presentEndpoint(endpoint),
        sourceKey: `webhook_endpoint:${endpoint.id}:test:${randomToken(16)}`,
      });
      const now = new Date();
      const delivery = await prisma.$transaction(async (tx) => {
        // For this endpoint alone: written as dispatched and published, so neither the relay
        // (other endpoints subscribed to "*") nor the event stream picks it up.
        await tx.event.create({ data: { ...event, dispatchedAt: now, publishedAt: now } });
        return tx.webhookDelivery.create({
          data: { id: newId('wd'), eventId: event.id, endpointId: endpoint.id, generation: 0 },
          include: deliveryInclude,
        });
      }, endpointTransactionOptions);
      await startDeliveryWorkflow(deps.temporal, deps.config, delivery.id);
      return reply.code(201).send(presentDelivery(delivery));
    },
  );

  app.get(
    '/v1/webhook_endpoints/:id/deliveries',
    {
      schema: {
        tags: ['webhook endpoints'],
        params: IdParams,
        querystring: DeliveryListQuery,
        response: withErrors({ 200: DeliveryList }),
      },
    },
    async (request) => {
      const endpoint = await ownEndpoint(request.merchantId, request.params.id);
      const { query } = request;
      const where: Prisma.WebhookDeliveryWhereInput = { endpointId: endpoint.id };
      if (query.status) where.status = query.status;
      if (query.event_id) where.eventId = query.event_id;
      const page = await listPage(
        pageRequest(query),
        {
          position: (id) =>
            prisma.webhookDelivery.findFirst({
              where: { id, endpointId: endpoint.id },
              select: { id: true, createdAt: true },
            }),
          rows: (page) =>
            prisma.webhookDelivery.findMany({ ...page, where: { AND: [where, page.where] }, include: deliveryInclude }),
        },
        'delivery',
      );
      return presentList(page, presentDelivery);
    },
  );
}
