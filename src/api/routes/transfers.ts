import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDependencies } from '../dependencies.ts';
import type { transferWorkflow } from '../../../workflows/transfer.ts';
import type { TransferView } from '../../../activities/transfers.ts';
import { idempotencySettings, idempotent } from '../idempotency.ts';
import { resourceIdFor, resultBefore, startOrFind } from '../workflow-runs.ts';
import { deadlineAfter } from '../answer-deadlines.ts';
import { findMerchantAccount } from './accounts.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { presentTransfer } from '../../transfers/public-transfer.ts';
import { IdParams, IdempotencyHeaders, withErrors } from '../schemas/common.ts';
import { CreateTransferBody, Transfer, TransferList, TransferListQuery } from '../schemas/transfers.ts';
import type { Prisma } from '../../db/prisma.ts';
import { listPage, pageRequest, presentList } from '../list-pages.ts';
import { cipherFor } from '../../crypto/column-cipher.ts';
import { requireKeyring } from '../../config.ts';
import { openTransferDescription } from '../../transfers/transfer-description.ts';

/** The workflow names the transfer's id `transferId`. */
const fromView = (transfer: TransferView) => presentTransfer({ ...transfer, id: transfer.transferId });

export async function transferRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  /** A stored row's public shape: its description is stored encrypted (src/transfers/transfer-description.ts). */
  const fromRow = (row: Parameters<typeof presentTransfer>[0]) =>
    presentTransfer(openTransferDescription(cipherFor(requireKeyring(deps.config)), row));

  app.post(
    '/v1/transfers',
    {
      schema: {
        tags: ['transfers'],
        headers: IdempotencyHeaders,
        body: CreateTransferBody,
        response: withErrors({ 201: Transfer, 202: Transfer }),
      },
    },
    async (request, reply) => {
      const { merchantId, body } = request;
      const deadline = deadlineAfter(reply, deps.config.depositWaitMs);
      if (body.from_account_id === body.to_account_id) {
        throw new PaymentsError('parameter_invalid', 'A transfer needs two different accounts.', 'to_account_id');
      }
      const from = await findMerchantAccount(deps, merchantId, body.from_account_id, 'from_account_id');
      const to = await findMerchantAccount(deps, merchantId, body.to_account_id, 'to_account_id');
      for (const [account, param] of [
        [from, 'from_account_id'],
        [to, 'to_account_id'],
      ] as const) {
        if (account.currency !== body.currency) {
          throw new PaymentsError('currency_mismatch', `Account ${account.id} holds ${account.currency}.`, param);
        }
      }
      return idempotent(deps.prisma, idempotencySettings(deps.config), request, reply, merchantId, async () => {
        const workflowId = `transfer:${merchantId}:${request.headers['idempotency-key']}`;
        const transfer = {
          transferId: resourceIdFor('tr', workflowId),
          merchantId,
          fromAccountId: from.id,
          toAccountId: to.id,
          amount: BigInt(body.amount),
          currency: body.currency,
          description: body.description ?? null,
        };
        const handle = await startOrFind<typeof transferWorkflow>(
          deps.temporal,
          deps.config.taskQueue,
          'transferWorkflow',
          workflowId,
          [
            {
              ...transfer,
              limits: { maxTransferAmountMinor: deps.config.maxTransferAmountMinor },
              settings: {
                holdExpiryMs: deps.config.transferHoldExpiryMs,
                captureTimeoutMs: deps.config.transferCaptureTimeoutMs,
              },
            },
          ],
          deadline,
        );
        const done = await resultBefore(deps.temporal, deadline, handle);
        const pending: TransferView = {
          ...transfer,
          status: 'pending',
          failureCode: null,
          failureMessage: null,
          transactionId: null,
          createdAt: new Date().toISOString(),
        };
        return done ? { status: 201, body: fromView(done) } : { status: 202, body: fromView(pending) };
      });
    },
  );

  app.get(
    '/v1/transfers',
    { schema: { tags: ['transfers'], querystring: TransferListQuery, response: withErrors({ 200: TransferList }) } },
    async (request) => {
      const { merchantId, query } = request;
      const where: Prisma.TransferWhereInput = { merchantId };
      // Either side: an account's transfers in and out.
      if (query.account_id !== undefined) {
        where.OR = [{ fromAccountId: query.account_id }, { toAccountId: query.account_id }];
      }
      if (query.status !== undefined) where.status = query.status;
      const page = await listPage(
        pageRequest(query),
        {
          position: (id) =>
            deps.prisma.transfer.findFirst({ where: { id, merchantId }, select: { id: true, createdAt: true } }),
          rows: (page) => deps.prisma.transfer.findMany({ ...page, where: { AND: [where, page.where] } }),
        },
        'transfer',
      );
      return presentList(page, fromRow);
    },
  );

  app.get(
    '/v1/transfers/:id',
    { schema: { tags: ['transfers'], params: IdParams, response: withErrors({ 200: Transfer }) } },
    async (request) => {
      const row = await deps.prisma.transfer.findFirst({
        where: { id: request.params.id, merchantId: request.merchantId },
      });
      if (!row) throw new PaymentsError('resource_missing', `No such transfer: '${request.params.id}'.`, 'id');
      return fromRow(row);
    },
  );
}
