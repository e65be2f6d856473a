import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDependencies } from '../dependencies.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { IdParams, withErrors } from '../schemas/common.ts';
import { deadlineAfter } from '../answer-deadlines.ts';
import { callBefore, temporalUnavailable } from '../temporal-deadlines.ts';
import {
  AdminPayment,
  AdminPaymentList,
  maxAdminPaymentPage,
  presentAdminPayment,
  presentAdminPayments,
} from '../../payments/admin-payment.ts';
import { cipherFor } from '../../crypto/column-cipher.ts';
import { requireKeyring } from '../../config.ts';
import { openPaymentSecrets } from '../../payments/payment-secrets.ts';
import { lookUpAgainSignal } from '../../../workflows/messages.ts';

// The operators' queue of payments whose provider step stayed unknown after every lookup
// (README: "Unknown outcomes"), across merchants, longest waiting first, and the one action
// on them: look the step up again now, once the provider can answer.

const AttentionQuery = Type.Object(
  {
    // The queue is the one cross-merchant list: other statuses are each merchant's own list.
    status: Type.Literal('requires_attention'),
    limit: Type.Integer({ minimum: 1, maximum: maxAdminPaymentPage, default: 50 }),
  },
  { additionalProperties: false },
);

const withRefunds = { refunds: { orderBy: [{ createdAt: 'asc' as const }, { id: 'asc' as const }] } };

export async function paymentAdminRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/v1/admin/payments',
    { schema: { tags: ['admin'], querystring: AttentionQuery, response: withErrors({ 200: AdminPaymentList }) } },
    async (request) => {
      const { status, limit } = request.query;
      const rows = await deps.prisma.payment.findMany({
        where: { status },
        orderBy: [{ updatedAt: 'asc' }, { id: 'asc' }],
        take: limit + 1,
        include: withRefunds,
      });
      const cipher = cipherFor(requireKeyring(deps.config));
      const shown = rows.slice(0, limit).map((row) => openPaymentSecrets(cipher, row));
      const data = await presentAdminPayments(deps.prisma, shown);
      return { object: 'list' as const, data, has_more: rows.length > limit };
    },
  );

  // 202: the payment's workflow asks the provider now and goes on from its answer; the
  // payment stays requires_attention while the provider still cannot tell.
  app.post(
    '/v1/admin/payments/:id/lookup',
    { schema: { tags: ['admin'], params: IdParams, response: withErrors({ 202: AdminPayment }) } },
    async (request, reply) => {
      const deadline = deadlineAfter(reply, deps.config.paymentWaitMs);
      const { id } = request.params;
      const payment = await deps.prisma.payment.findUnique({ where: { id }, include: withRefunds });
      if (!payment) throw new PaymentsError('resource_missing', `No such payment: '${id}'.`, 'id');
      if (payment.status !== 'requires_attention') {
        throw new PaymentsError(
          'payment_unexpected_state',
          `Only a payment that requires attention is looked up again; its status is ${payment.status}.`,
        );
      }
      const signaled = await callBefore(deps.temporal, deadline, async () => {
        await deps.temporal.workflow.getHandle(id).signal(lookUpAgainSignal);
        return true;
      });
      if (!signaled) throw temporalUnavailable('The lookup could not be requested in time; retry.');
      const shown = openPaymentSecrets(cipherFor(requireKeyring(deps.config)), payment);
      return reply.status(202).send(await presentAdminPayment(deps.prisma, shown));
    },
  );
}
