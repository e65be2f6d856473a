import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createHash, randomUUID } from 'node:crypto';
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import type { AppDependencies } from '../app.ts';
import type { paymentWorkflowV2 } from '../../../workflows/payment.ts';
import type { PaymentInput, PaymentSettings, PaymentView } from '../../domain/payment-view.ts';
import {
  approveUpdate,
  awaitStableUpdate,
  cancelUpdate,
  captureUpdate,
  refundUpdate,
  rejectUpdate,
} from '../../../workflows/messages.ts';
import type { Config } from '../../config.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { isCurrencyCode, toJsonAmount } from '../../domain/money.ts';
import { isStable } from '../../domain/payment-state.ts';
import { idempotencySettings, idempotent, idempotentIfKeyed, type StoredResponse } from '../idempotency.ts';
import { fromTemporalFailure } from '../errors.ts';
import { resourceIdFor } from '../workflow-runs.ts';
import { findMerchantAccount } from './accounts.ts';
import { IdParams, IdempotencyHeaders, OptionalIdempotencyHeaders, withErrors } from '../schemas/common.ts';
import {
  CaptureBody,
  CreatePaymentBody,
  EmptyBody,
  LedgerTransactionList,
  Payment,
  PaymentList,
  PaymentListQuery,
  Refund,
  RefundBody,
} from '../schemas/payments.ts';
import { presentPayment, presentRefund, loadPayment, listPayments } from './payment-reads.ts';

export function paymentSettings(config: Config): PaymentSettings {
  return {
    authorizationExpiryMs: config.authorizationExpiryMs,
    reviewTimeoutMs: config.reviewTimeoutMs,
    settlementDelayMs: config.settlementDelayMs,
    refundWindowMs: config.refundWindowMs,
    maxRefunds: config.maxRefunds,
    continueAsNewAfterEvents: config.paymentContinueAsNewAfterEvents,
    fee: { percentBasisPoints: config.feePercentBasisPoints, fixedMinor: config.feeFixedMinor },
    risk: {
      reviewAboveMinor: config.riskReviewAboveMinor,
      blockAboveMinor: config.riskBlockAboveMinor,
      maxPaymentsPerWindow: config.riskMaxPaymentsPerWindow,
      velocityWindowMs: config.riskVelocityWindowMs,
      blockedCustomers: config.riskBlockedCustomers,
      blockedCards: config.riskBlockedCards,
    },
  };
}

/** Velocity rules count by card without keeping the token itself. */
function cardFingerprint(token: string): string {
  return createHash('sha256').update(`card:${token}`).digest('hex').slice(0, 32);
}

/** Sends an update; a payment whose workflow has ended accepts no more changes. */
async function update<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || /already completed|not found/i.test(String(error))) {
      const typed = fromTemporalFailure(error);
      if (typed) throw typed;
      throw new PaymentsError('payment_unexpected_state', 'This payment no longer accepts changes.');
    }
    throw error;
  }
}

export async function paymentRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const temporal: Client = deps.temporal;

  /** The merchant's payment from the read model; 404 for unknown and for other merchants'. */
  const ownPayment = async (merchantId: string, id: string) => {
    const payment = await loadPayment(deps.prisma, merchantId, id);
    if (!payment) throw new PaymentsError('resource_missing', `No such payment: '${id}'.`, 'id');
    return payment;
  };

  const maybeIdempotent = (
    request: Parameters<typeof idempotentIfKeyed>[2],
    reply: Parameters<typeof idempotentIfKeyed>[3],
    execute: () => Promise<StoredResponse>,
  ) => idempotentIfKeyed(deps.prisma, idempotencySettings(deps.config), request, reply, request.merchantId, execute);

  app.post(
    '/v1/payments',
    {
      schema: {
        tags: ['payments'],
        headers: IdempotencyHeaders,
        body: CreatePaymentBody,
        response: withErrors({ 201: Payment, 202: Payment }),
      },
    },
    async (request, reply) => {
      const { merchantId, body } = request;
      if (!isCurrencyCode(body.currency)) {
        throw new PaymentsError('parameter_invalid', `Unknown ISO 4217 currency: ${body.currency}.`, 'currency');
      }
      if (body.source.type === 'wallet') {
        const account = await findMerchantAccount(deps, merchantId, body.source.account_id);
        if (account.type !== 'customer') {
          throw new PaymentsError(
            'parameter_invalid',
            'A wallet payment draws on a customer account.',
            'source.account_id',
          );
        }
        if (account.currency !== body.currency) {
          throw new PaymentsError(
            'currency_mismatch',
            `Account ${account.id} holds ${account.currency}.`,
            'source.account_id',
          );
        }
      }
      return idempotent(deps.prisma, idempotencySettings(deps.config), request, reply, merchantId, async () => {
        const paymentId = resourceIdFor('pay', `payment:${merchantId}:${request.headers['idempotency-key']}`);
        const input: PaymentInput = {
          paymentId,
          merchantId,
          amount: BigInt(body.amount),
          currency: body.currency,
          captureMethod: body.capture_method ?? 'automatic',
          source:
            body.source.type === 'card'
              ? { type: 'card', token: body.source.token, provider: body.source.provider }
              : { type: 'wallet', accountId: body.source.account_id },
          customer: body.customer ?? null,
          description: body.description ?? null,
          metadata: body.metadata ?? null,
          cardFingerprint: body.source.type === 'card' ? cardFingerprint(body.source.token) : null,
          createdAt: new Date().toISOString(),
          settings: paymentSettings(deps.config),
        };
        let view: PaymentView | undefined;
        try {
          view = await temporal.workflow.executeUpdateWithStart(awaitStableUpdate, {
            args: [{ waitMs: deps.config.paymentWaitMs }],
            startWorkflowOperation: new WithStartWorkflowOperation<typeof paymentWorkflowV2>('paymentWorkflowV2', {
              workflowId: paymentId,
              taskQueue: deps.config.taskQueue,
              args: [input],
              workflowIdConflictPolicy: 'USE_EXISTING',
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
              searchAttributes: {
                PaymentStatus: ['processing'],
                MerchantId: [merchantId],
                CustomerId: input.customer ? [input.customer] : [],
                AmountMinor: [Number(input.amount)],
                Currency: [input.currency],
              },
            }),
          });
        } catch (error) {
          // The payment's workflow already ended: an earlier attempt of this request made it.
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
        const payment = await loadPayment(deps.prisma, merchantId, paymentId);
        const status = payment?.status ?? view?.status ?? 'processing';
        const shown = payment ? presentPayment(payment) : view ? presentPayment(viewAsRow(view)) : undefined;
        if (!shown) throw new PaymentsError('service_unavailable', 'The payment is starting; retry shortly.');
        return { status: isStable(status as never) ? 201 : 202, body: shown };
      });
    },
  );

  app.get(
    '/v1/payments/:id',
    { schema: { tags: ['payments'], params: IdParams, response: withErrors({ 200: Payment }) } },
    async (request) => presentPayment(await ownPayment(request.merchantId, request.params.id)),
  );

  app.get(
    '/v1/payments',
    { schema: { tags: ['payments'], querystring: PaymentListQuery, response: withErrors({ 200: PaymentList }) } },
    async (request) => {
      const query = request.query;
      const page = await listPayments(deps.prisma, request.merchantId, {
        status: query.status,
        customer: query.customer,
        createdGte: query['created[gte]'] ? new Date(query['created[gte]']) : undefined,
        createdLte: query['created[lte]'] ? new Date(query['created[lte]']) : undefined,
        limit: query.limit,
        startingAfter: query.starting_after,
      });
      return { object: 'list' as const, data: page.data.map(presentPayment), has_more: page.hasMore };
    },
  );

  const action = (
    path: string,
    run: (id: string, body: { amount?: number } | null) => Promise<unknown>,
    body = EmptyBody as typeof EmptyBody | typeof CaptureBody,
  ) =>
    app.post(
      `/v1/payments/:id/${path}`,
      {
        schema: {
          tags: ['payments'],
          params: IdParams,
          headers: OptionalIdempotencyHeaders,
          body,
          response: withErrors({ 200: Payment }),
        },
      },
      async (request, reply) => {
        await ownPayment(request.merchantId, request.params.id);
        return maybeIdempotent(request, reply, async () => {
          await update(() => run(request.params.id, (request.body ?? null) as { amount?: number } | null));
          return { status: 200, body: presentPayment(await ownPayment(request.merchantId, request.params.id)) };
        });
      },
    );

  action(
    'capture',
    (id, body) =>
      temporal.workflow.getHandle(id).executeUpdate(captureUpdate, {
        args: [{ amount: body?.amount === undefined ? undefined : BigInt(body.amount) }],
      }),
    CaptureBody,
  );
  action('cancel', (id) => temporal.workflow.getHandle(id).executeUpdate(cancelUpdate));
  action('approve', (id) => temporal.workflow.getHandle(id).executeUpdate(approveUpdate));
  action('reject', (id) => temporal.workflow.getHandle(id).executeUpdate(rejectUpdate));

  app.post(
    '/v1/payments/:id/refunds',
    {
      schema: {
        tags: ['payments'],
        params: IdParams,
        headers: OptionalIdempotencyHeaders,
        body: RefundBody,
        response: withErrors({ 201: Refund }),
      },
    },
    async (request, reply) => {
      const { merchantId } = request;
      await ownPayment(merchantId, request.params.id);
      const key = request.headers['idempotency-key'];
      // Keyed refunds get an id derived from the key, so a retried update finds the first refund.
      const refundId = key
        ? resourceIdFor('re', `refund:${merchantId}:${key}`)
        : `re_${randomUUID().replace(/-/g, '')}`;
      return maybeIdempotent(request, reply, async () => {
        const refund = await update(() =>
          temporal.workflow.getHandle(request.params.id).executeUpdate(refundUpdate, {
            args: [
              {
                refundId,
                amount: request.body?.amount === undefined ? undefined : BigInt(request.body.amount),
                reason: request.body?.reason,
              },
            ],
          }),
        );
        return { status: 201, body: presentRefund(refund) };
      });
    },
  );

  app.get(
    '/v1/payments/:id/ledger',
    { schema: { tags: ['payments'], params: IdParams, response: withErrors({ 200: LedgerTransactionList }) } },
    async (request) => {
      const payment = await ownPayment(request.merchantId, request.params.id);
      const references = [payment.id, ...payment.refunds.map((refund) => refund.id)];
      const transactions = await deps.prisma.ledgerTransaction.findMany({
        where: { reference: { in: references } },
        orderBy: { createdAt: 'asc' },
        include: { entries: { orderBy: { id: 'asc' } } },
      });
      return {
        object: 'list' as const,
        data: transactions.map((transaction) => ({
          transaction_id: transaction.id,
          kind: transaction.kind,
          reference: transaction.reference,
          created_at: transaction.createdAt.toISOString(),
          entries: transaction.entries.map((entry) => ({
            account_id: entry.accountId,
            amount: toJsonAmount(entry.amount),
            currency: entry.currency,
            balance_after: toJsonAmount(entry.balanceAfter),
          })),
        })),
      };
    },
  );
}

/** The workflow's own view, shaped like a read-model row, for the moment before its first write. */
function viewAsRow(view: PaymentView) {
  return {
    ...view,
    metadata: view.metadata,
    createdAt: new Date(view.createdAt),
    events: [],
    refunds: view.refunds.map((refund) => ({ ...refund, createdAt: new Date(refund.createdAt) })),
  };
}
