import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDependencies } from '../dependencies.ts';
import type { Prisma } from '../../db/prisma.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { defaultRollExpirySeconds, presentApiKey } from '../../api-keys/api-keys.ts';
import { createApiKey, ownApiKey, revokeApiKey, rollApiKey } from '../../api-keys/key-changes.ts';
import { IdParams, withErrors } from '../schemas/common.ts';
import { cipherFor } from '../../crypto/column-cipher.ts';
import { requireKeyring } from '../../config.ts';
import { ApiKey, ApiKeyList, ApiKeyListQuery, CreateApiKeyBody, RollApiKeyBody } from '../schemas/api-keys.ts';

// A merchant's own API keys (src/api-keys/). The secret is in the answer that makes a key and
// nowhere else: these POSTs take no Idempotency-Key, since a stored answer would keep the
// secret in the database; a retried creation makes a second key, which can be revoked.

/**
 * Every field of these bodies is optional, so a POST with no body at all (`curl -X POST` without
 * `-d` or a Content-Type) means `{}`, as at Stripe, instead of a 400 "must be object".
 */
async function noBodyIsEmpty(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}

export async function apiKeyRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { prisma } = deps;
  // Each change is announced by an event, stored through the cipher (src/events/event-secrets.ts).
  const cipher = () => cipherFor(requireKeyring(deps.config));

  app.post(
    '/v1/api_keys',
    {
      preValidation: noBodyIsEmpty,
      schema: { tags: ['api keys'], body: CreateApiKeyBody, response: withErrors({ 201: ApiKey }) },
    },
    async (request, reply) => {
      const key = await createApiKey(prisma, cipher(), request.merchantId, request.body.name ?? null);
      return reply.status(201).send(key);
    },
  );

  app.get(
    '/v1/api_keys',
    { schema: { tags: ['api keys'], querystring: ApiKeyListQuery, response: withErrors({ 200: ApiKeyList }) } },
    async (request) => {
      const { merchantId, query } = request;
      const where: Prisma.ApiKeyWhereInput = { merchantId };
      if (query.starting_after) {
        const cursor = await prisma.apiKey.findFirst({
          where: { id: query.starting_after, merchantId },
          select: { id: true, createdAt: true },
        });
        if (!cursor)
          throw new PaymentsError('resource_missing', 'No such API key for starting_after.', 'starting_after');
        where.OR = [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }];
      }
      const rows = await prisma.apiKey.findMany({
        where,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: query.limit + 1,
      });
      const now = new Date();
      return {
        object: 'list' as const,
        data: rows.slice(0, query.limit).map((row) => presentApiKey(row, now)),
        has_more: rows.length > query.limit,
      };
    },
  );

  app.get(
    '/v1/api_keys/:id',
    { schema: { tags: ['api keys'], params: IdParams, response: withErrors({ 200: ApiKey }) } },
    async (request) => presentApiKey(await ownApiKey(prisma, request.merchantId, request.params.id), new Date()),
  );

  app.post(
    '/v1/api_keys/:id/roll',
    {
      preValidation: noBodyIsEmpty,
      schema: { tags: ['api keys'], params: IdParams, body: RollApiKeyBody, response: withErrors({ 200: ApiKey }) },
    },
    async (request) =>
      rollApiKey(
        prisma,
        cipher(),
        request.merchantId,
        request.params.id,
        request.body.expires_in_seconds ?? defaultRollExpirySeconds,
      ),
  );

  app.delete(
    '/v1/api_keys/:id',
    { schema: { tags: ['api keys'], params: IdParams, response: withErrors({ 200: ApiKey }) } },
    async (request) => revokeApiKey(prisma, cipher(), request.merchantId, request.params.id),
  );
}
