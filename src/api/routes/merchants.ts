import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDependencies } from '../dependencies.ts';
import { hashApiKey, newApiKey } from '../auth.ts';
import { newId } from '../../ids.ts';
import { CreateMerchantBody, CreatedMerchant } from '../schemas/merchants.ts';
import { withErrors } from '../schemas/common.ts';

export async function merchantRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/v1/merchants',
    {
      schema: { tags: ['admin'], body: CreateMerchantBody, response: withErrors({ 201: CreatedMerchant }) },
    },
    async (request, reply) => {
      const apiKey = newApiKey();
      const merchant = await deps.prisma.merchant.create({
        data: {
          id: newId('mer'),
          name: request.body.name ?? null,
          apiKeyHash: hashApiKey(apiKey),
          apiKeyPrefix: apiKey.slice(0, 12),
        },
      });
      return reply.status(201).send({
        id: merchant.id,
        object: 'merchant' as const,
        name: merchant.name,
        api_key: apiKey,
        created_at: merchant.createdAt.toISOString(),
      });
    },
  );
}
