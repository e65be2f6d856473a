import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDependencies } from '../dependencies.ts';
import { insertApiKey } from '../../api-keys/key-changes.ts';
import { newId } from '../../ids.ts';
import {
  CreateMerchantBody,
  CreatedMerchant,
  Merchant,
  MerchantList,
  MerchantListQuery,
} from '../schemas/merchants.ts';
import { IdParams, withErrors } from '../schemas/common.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { presentMerchant } from '../../merchants/public-merchant.ts';
import { listPage, pageRequest, presentList } from '../list-pages.ts';

/** The name of the key a merchant is created with (GET /v1/api_keys shows it). */
export const firstKeyName = 'default';

export async function merchantRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/v1/merchants',
    {
      schema: { tags: ['admin'], body: CreateMerchantBody, response: withErrors({ 201: CreatedMerchant }) },
    },
    async (request, reply) => {
      // The merchant and its first API key (named "default"), together or not at all. No
      // api_key.created event: the admin made it, and no endpoint of the merchant could hear it yet.
      const { merchant, secret } = await deps.prisma.$transaction(
        async (tx) => {
          const created = await tx.merchant.create({ data: { id: newId('mer'), name: request.body.name ?? null } });
          const key = await insertApiKey(tx, created.id, firstKeyName);
          return { merchant: created, secret: key.secret };
        },
        { isolationLevel: 'ReadCommitted', maxWait: 5_000, timeout: 10_000 },
      );
      return reply.status(201).send({ ...presentMerchant(merchant), api_key: secret });
    },
  );

  app.get(
    '/v1/merchants',
    { schema: { tags: ['admin'], querystring: MerchantListQuery, response: withErrors({ 200: MerchantList }) } },
    async (request) => {
      const page = await listPage(
        pageRequest(request.query),
        {
          position: (id) => deps.prisma.merchant.findUnique({ where: { id }, select: { id: true, createdAt: true } }),
          rows: (page) => deps.prisma.merchant.findMany({ ...page, select: { id: true, name: true, createdAt: true } }),
        },
        'merchant',
      );
      return presentList(page, presentMerchant);
    },
  );

  app.get(
    '/v1/merchants/:id',
    { schema: { tags: ['admin'], params: IdParams, response: withErrors({ 200: Merchant }) } },
    async (request) => {
      const merchant = await deps.prisma.merchant.findUnique({
        where: { id: request.params.id },
        select: { id: true, name: true, createdAt: true },
      });
      if (!merchant) throw new PaymentsError('resource_missing', `No such merchant: '${request.params.id}'.`, 'id');
      return presentMerchant(merchant);
    },
  );
}
