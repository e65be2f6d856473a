import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateStage, type Client, type WorkflowUpdateHandle } from '@temporalio/client';
import type { AppDependencies } from '../dependencies.ts';
import { openingView, type PaymentInput, type PaymentSettings, type PaymentView } from '../../domain/payment-view.ts';
import { approveUpdate, cancelUpdate, captureUpdate, refundUpdate, rejectUpdate } from '../../../workflows/messages.ts';
import { requireKeyring, type Config } from '../../config.ts';
import { cipherFor } from '../../crypto/column-cipher.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { isCurrencyCode, toJsonAmount } from '../../domain/money.ts';
import { isStable } from '../../domain/payment-state.ts';
import { idempotencySettings, idempotent, idempotentIfKeyed, type StoredResponse } from '../idempotency.ts';
import { fromTemporalFailure } from '../errors.ts';
import { resourceIdFor, updateBefore } from '../workflow-runs.ts';
import { deadlineAfter, readModelGraceMs, settledBy } from '../answer-deadlines.ts';
import { startPayment } from './payment-start.ts';
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
  PaymentQuery,
  PaymentRefundListQuery,
  PaymentTimeline,
  Refund,
  RefundBody,
  RefundList,
  RefundListQuery,
  UpdatePaymentBody,
} from '../schemas/payments.ts';
import { loadPayment, listPayments, listRefunds, loadPaymentEvents, loadTimelines } from './payment-reads.ts';
import { presentPayment, type PaymentExpansion, type PaymentFacts } from '../../payments/public-payment.ts';
import { updatePaymentDetails } from '../../payments/payment-details.ts';
import { pageRequest, presentList } from '../list-pages.ts';
import { presentRefund, type RefundFacts } from '../../payments/public-refund.ts';
import { presentTimeline } from '../../payments/public-payment-timeline.ts';
import { queryInstant } from '../query-time.ts';
import { foldPayment } from '../../domain/payment-history.ts';
import { cardFingerprint } from '../../payments/card-fingerprint.ts';
import { labelRequestLog } from '../request-log.ts';

export function paymentSettings(config: Config): PaymentSettings {
  return {
    authorizationExpiryMs: config.authorizationExpiryMs,
    reviewTimeoutMs: config.reviewTimeoutMs,
    settlementDelayMs: config.settlementDelayMs,
    refundWindowMs: config.refundWindowMs,
    maxRefunds: config.maxRefunds,
    continueAsNewAfterEvents: config.paymentContinueAsNewAfterEvents,
    outcomeLookupScheduleMs: config.outcomeLookupScheduleMs,
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

/** Sends an update; a payment whose workflow has ended accepts no more changes. */
async function update<T>(payment: { status: string }, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || /already completed|not found/i.test(String(error))) {
      const typed = fromTemporalFailure(error);
      if (typed) throw typed;
      throw new PaymentsError(
        'payment_unexpected_state',
        `This payment no longer accepts changes; its status is ${payment.status}.`,
      );
    }
    throw error;
  }
}

/** A keyed action's update id comes from its key, so its retry joins the update the first attempt sent. */
function updateIdFor(action: string, key: string | undefined): string | undefined {
  return key === undefined ? undefined : `${action}:${key}`;
}

/** A refund the workflow has accepted but not finished: as the read model has it, else as requested. */
async function refundAsItIs(
  deps: AppDependencies,
  payment: PaymentFacts,
  refundId: string,
  requested: { amount?: number; reason?: string } | undefined,
  deadline: number,
): Promise<RefundFacts> {
  const row = await settledBy(
    deps.prisma.refund.findFirst({ where: { id: refundId, paymentId: payment.id } }),
    deadline + readModelGraceMs,
  );
  if (row) return row;
  return {
    id: refundId,
    paymentId: payment.id,
    // No amount refunds what is left, as the workflow's own check does.
    amount:
      requested?.amount === undefined ? payment.amountCaptured - payment.amountRefunded : BigInt(requested.amount),
    status: 'pending',
    reason: requested?.reason ?? null,
    createdAt: new Date(),
  };
}

export async function paymentRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const temporal: Client = deps.temporal;
  // Updates are sent and awaited in two steps: accepted (durable), then their result.
  const accepted = WorkflowUpdateStage.ACCEPTED;

  // Per call: an app built without ENCRYPTION_KEYS still registers its routes (the API reference).
  const cipher = () => cipherFor(requireKeyring(deps.config));
  /** The merchant's payment from the read model; 404 for unknown and for other merchants'. */
  const ownPayment = async (merchantId: string, id: string) => {
    const payment = await loadPayment(deps.prisma, cipher(), merchantId, id);
    if (!payment) throw new PaymentsError('resource_missing', `No such payment: '${id}'.`, 'id');
    return payment;
  };

  // Routes under /v1/payments/:id name their payment on every line.
  app.addHook('preHandler', async (request, reply) => {
    const { id } = (request.params ?? {}) as { id?: unknown };
    if (typeof id === 'string' && id.startsWith('pay_')) labelRequestLog(request, reply, { paymentId: id });
  });

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
      const deadline = deadlineAfter(reply, deps.config.paymentWaitMs);
      const { merchantId, body } = request;
      if (!isCurrencyCode(body.currency)) {
        throw new PaymentsError('parameter_invalid', `Unknown ISO 4217 currency: ${body.currency}.`, 'currency');
      }
      if (body.source.type === 'wallet') {
        const account = await findMerchantAccount(deps, merchantId, body.source.account_id, 'source.account_id');
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
        labelRequestLog(request, reply, { paymentId });
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
        const started = await startPayment(temporal, deps.config.taskQueue, input, deadline);
        // Running with no answer in time: the promised 202, with no read of a read model that,
        // under the load that made it late, would only make it later.
        if (started.kind === 'running') return { status: 202, body: presentPayment(openingView(input)) };
        const payment = await settledBy(
          loadPayment(deps.prisma, cipher(), merchantId, paymentId),
          deadline + readModelGraceMs,
        );
        const shown = payment ?? (started.kind === 'answered' ? started.view : openingView(input));
        return { status: isStable(shown.status as never) ? 201 : 202, body: presentPayment(shown) };
      });
    },
  );

  /** What `expand[]` adds: refunds always on a single payment, the timeline on request. */
  const expansionOf = async (payment: { id: string }, expand: readonly string[] = []): Promise<PaymentExpansion> => ({
    refunds: true,
    events: expand.includes('events') ? await loadPaymentEvents(deps.prisma, payment.id) : undefined,
  });

  // With `at`, the payment as it was then, folded from its events (src/domain/payment-history.ts).
  app.get(
    '/v1/payments/:id',
    {
      schema: {
        tags: ['payments'],
        params: IdParams,
        querystring: PaymentQuery,
        response: withErrors({ 200: Payment }),
      },
    },
    async (request) => {
      const payment = await ownPayment(request.merchantId, request.params.id);
      const expand = request.query['expand[]'];
      if (request.query.at === undefined) return presentPayment(payment, await expansionOf(payment, expand));
      const at = queryInstant(request.query.at, 'at');
      if (at.getTime() < payment.createdAt.getTime()) {
        throw new PaymentsError('resource_missing', `No such payment at ${at.toISOString()}: '${payment.id}'.`, 'at');
      }
      const events = await loadPaymentEvents(deps.prisma, payment.id, at);
      return presentPayment(foldPayment(payment, events, payment.refunds), {
        refunds: true,
        events: expand?.includes('events') ? events : undefined,
      });
    },
  );

  app.get(
    '/v1/payments',
    { schema: { tags: ['payments'], querystring: PaymentListQuery, response: withErrors({ 200: PaymentList }) } },
    async (request) => {
      const { query } = request;
      const page = await listPayments(
        deps.prisma,
        cipher(),
        request.merchantId,
        { status: query.status, customer: query.customer },
        pageRequest(query),
      );
      // A page carries refunds and timelines only when asked: each is a list of its own.
      const expand = query['expand[]'] ?? [];
      const timelines = expand.includes('events')
        ? await loadTimelines(
            deps.prisma,
            page.data.map((payment) => payment.id),
          )
        : undefined;
      return presentList(page, (payment) =>
        presentPayment(payment, { refunds: expand.includes('refunds'), events: timelines?.get(payment.id) }),
      );
    },
  );

  // The merchant's notes on a payment, whatever its status: the row and a payment.updated event.
  app.post(
    '/v1/payments/:id',
    {
      schema: {
        tags: ['payments'],
        params: IdParams,
        headers: OptionalIdempotencyHeaders,
        body: UpdatePaymentBody,
        response: withErrors({ 200: Payment }),
      },
    },
    async (request, reply) => {
      const { merchantId, body } = request;
      return maybeIdempotent(request, reply, async () => {
        const updated = await updatePaymentDetails(deps.prisma, cipher(), merchantId, request.params.id, {
          description: body.description,
          metadata: body.metadata,
        });
        if (!updated) throw new PaymentsError('resource_missing', `No such payment: '${request.params.id}'.`, 'id');
        return { status: 200, body: presentPayment(updated) };
      });
    },
  );

  app.get(
    '/v1/refunds',
    { schema: { tags: ['payments'], querystring: RefundListQuery, response: withErrors({ 200: RefundList }) } },
    async (request) => {
      const { query } = request;
      const page = await listRefunds(
        deps.prisma,
        request.merchantId,
        { paymentId: query.payment_id },
        pageRequest(query),
      );
      return presentList(page, presentRefund);
    },
  );

  app.get(
    '/v1/payments/:id/refunds',
    {
      schema: {
        tags: ['payments'],
        params: IdParams,
        querystring: PaymentRefundListQuery,
        response: withErrors({ 200: RefundList }),
      },
    },
    async (request) => {
      const payment = await ownPayment(request.merchantId, request.params.id);
      const page = await listRefunds(
        deps.prisma,
        request.merchantId,
        { paymentId: payment.id },
        pageRequest(request.query),
      );
      return presentList(page, presentRefund);
    },
  );

  // Each action waits up to PAYMENT_WAIT_MS: 200 when the workflow finished it, 202 with the
  // payment as it is when the workflow accepted it but is still at work, 503 when no worker
  // accepted it in time.
  const action = (
    path: string,
    send: (
      id: string,
      body: { amount?: number } | null,
      updateId: string | undefined,
    ) => Promise<WorkflowUpdateHandle<PaymentView>>,
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
          response: withErrors({ 200: Payment, 202: Payment }),
        },
      },
      async (request, reply) => {
        const deadline = deadlineAfter(reply, deps.config.paymentWaitMs);
        const { id } = request.params;
        const before = await ownPayment(request.merchantId, id);
        const updateId = updateIdFor(path, request.headers['idempotency-key']);
        return maybeIdempotent(request, reply, async () => {
          const requested = (request.body ?? null) as { amount?: number } | null;
          const done = await update(before, () =>
            updateBefore(temporal, deadline, () => send(id, requested, updateId)),
          );
          // The read model has the update's effect (updates answer once it is recorded); if it is
          // slow to tell, the workflow's own view does, and a 202 shows the payment as it was.
          const after = await settledBy(
            loadPayment(deps.prisma, cipher(), request.merchantId, id),
            deadline + readModelGraceMs,
          );
          const shown: PaymentFacts = after ?? done ?? before;
          return { status: done ? 200 : 202, body: presentPayment(shown) };
        });
      },
    );

  action(
    'capture',
    (id, body, updateId) =>
      temporal.workflow.getHandle(id).startUpdate(captureUpdate, {
        args: [{ amount: body?.amount === undefined ? undefined : BigInt(body.amount) }],
        waitForStage: accepted,
        updateId,
      }),
    CaptureBody,
  );
  for (const [path, definition] of [
    ['cancel', cancelUpdate],
    ['approve', approveUpdate],
    ['reject', rejectUpdate],
  ] as const) {
    action(path, (id, _body, updateId) =>
      temporal.workflow.getHandle(id).startUpdate(definition, { waitForStage: accepted, updateId }),
    );
  }

  app.post(
    '/v1/payments/:id/refunds',
    {
      schema: {
        tags: ['payments'],
        params: IdParams,
        headers: OptionalIdempotencyHeaders,
        body: RefundBody,
        response: withErrors({ 201: Refund, 202: Refund }),
      },
    },
    async (request, reply) => {
      const deadline = deadlineAfter(reply, deps.config.paymentWaitMs);
      const { merchantId } = request;
      const payment = await ownPayment(merchantId, request.params.id);
      const key = request.headers['idempotency-key'];
      // Keyed refunds get an id derived from the key, so a retried update finds the first refund.
      const refundId = key
        ? resourceIdFor('re', `refund:${merchantId}:${key}`)
        : `re_${randomUUID().replace(/-/g, '')}`;
      const args = {
        refundId,
        amount: request.body?.amount === undefined ? undefined : BigInt(request.body.amount),
        reason: request.body?.reason,
      };
      return maybeIdempotent(request, reply, async () => {
        const refund = await update(payment, () =>
          updateBefore(temporal, deadline, () =>
            temporal.workflow
              .getHandle(payment.id)
              // One update per refund id: a keyed retry joins the update its first attempt sent.
              .startUpdate(refundUpdate, { args: [args], waitForStage: accepted, updateId: refundId }),
          ),
        );
        if (refund) return { status: 201, body: presentRefund(refund) };
        return {
          status: 202,
          body: presentRefund(await refundAsItIs(deps, payment, refundId, request.body, deadline)),
        };
      });
    },
  );

  app.get(
    '/v1/refunds/:id',
    { schema: { tags: ['payments'], params: IdParams, response: withErrors({ 200: Refund }) } },
    async (request) => {
      const { id } = request.params;
      const refund = await deps.prisma.refund.findFirst({ where: { id, payment: { merchantId: request.merchantId } } });
      if (!refund) throw new PaymentsError('resource_missing', `No such refund: '${id}'.`, 'id');
      return presentRefund(refund);
    },
  );

  // The payment's timeline: its own list, so the payment keeps one bounded shape everywhere.
  app.get(
    '/v1/payments/:id/events',
    { schema: { tags: ['payments'], params: IdParams, response: withErrors({ 200: PaymentTimeline }) } },
    async (request) => {
      const payment = await ownPayment(request.merchantId, request.params.id);
      const events = await loadPaymentEvents(deps.prisma, payment.id);
      return { object: 'list' as const, data: presentTimeline(events), has_more: false };
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
        include: { entries: { orderBy: { id: 'asc' }, include: { account: { select: { merchantId: true } } } } },
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
            // A platform account's balance is every merchant's total: shown to none of them.
            balance_after: entry.account.merchantId === request.merchantId ? toJsonAmount(entry.balanceAfter) : null,
          })),
        })),
      };
    },
  );
}
