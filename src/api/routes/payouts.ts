import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDependencies } from '../dependencies.ts';
import type { Config } from '../../config.ts';
import type { Prisma } from '../../db/prisma.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { isCurrencyCode } from '../../domain/money.ts';
import { checkPayoutAmount } from '../../domain/payout-amount.ts';
import type { PayoutDefaults } from '../../domain/payout-settings.ts';
import { openingPayoutView, type PayoutInput } from '../../domain/payout-view.ts';
import { availableBalance } from '../../payouts/payout-books.ts';
import { requestedPayoutId } from '../../payouts/payout-ids.ts';
import { merchantPayoutSettings } from '../../payouts/merchant-settings.ts';
import { presentPayout } from '../../payouts/public-payout.ts';
import { idempotencySettings, idempotent } from '../idempotency.ts';
import { deadlineAfter, readModelGraceMs, settledBy } from '../answer-deadlines.ts';
import { IdParams, IdempotencyHeaders, withErrors } from '../schemas/common.ts';
import { CreatePayoutBody, Payout, PayoutList, PayoutListQuery } from '../schemas/payouts.ts';
import { startPayout, startedPayoutAmount } from './payout-start.ts';
import { listPage, pageRequest, presentList } from '../list-pages.ts';
import { cipherFor } from '../../crypto/column-cipher.ts';
import { requireKeyring } from '../../config.ts';
import { openPayoutDescription } from '../../payouts/payout-description.ts';

// Payouts of a merchant's available balance to its bank; the payout workflow does the work.

export function payoutDefaults(config: Config): PayoutDefaults {
  return { schedule: config.payoutDefaultSchedule, minimumMinor: config.payoutMinimumAmountMinor };
}

export async function payoutRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const defaults = payoutDefaults(deps.config);
  /** The merchant's payout, its description readable (stored encrypted: src/payouts/payout-description.ts). */
  const ownPayout = async (merchantId: string, id: string) => {
    const row = await deps.prisma.payout.findFirst({ where: { id, merchantId } });
    return row && openPayoutDescription(cipherFor(requireKeyring(deps.config)), row);
  };

  /** The amount to pay out: between the merchant's minimum and its available balance, else a 4xx. */
  const checkedAmount = async (merchantId: string, currency: string, requested: bigint | undefined) => {
    const settings = await merchantPayoutSettings(deps.prisma, merchantId, defaults);
    const available = await availableBalance(deps.prisma, merchantId, currency);
    const amount = checkPayoutAmount(requested, { currency, available, minimum: settings.minimumMinor });
    if (!amount.ok) throw new PaymentsError(amount.code, amount.message, amount.param);
    return amount.value;
  };

  app.post(
    '/v1/payouts',
    {
      schema: {
        tags: ['payouts'],
        headers: IdempotencyHeaders,
        body: CreatePayoutBody,
        response: withErrors({ 201: Payout, 202: Payout }),
      },
    },
    async (request, reply) => {
      const deadline = deadlineAfter(reply, deps.config.payoutWaitMs);
      const { merchantId, body } = request;
      if (!isCurrencyCode(body.currency)) {
        throw new PaymentsError('parameter_invalid', `Unknown ISO 4217 currency: ${body.currency}.`, 'currency');
      }
      return idempotent(deps.prisma, idempotencySettings(deps.config), request, reply, merchantId, async () => {
        const payoutId = requestedPayoutId(merchantId, request.headers['idempotency-key']);
        // A retry of a request answered 202 joins its payout, whose hold the balance now reflects.
        const existing = await ownPayout(merchantId, payoutId);
        if (existing) return { status: 201, body: presentPayout(existing) };
        const requested = body.amount === undefined ? undefined : BigInt(body.amount);
        const amount =
          (await startedPayoutAmount(deps.temporal, payoutId, deadline)) ??
          (await checkedAmount(merchantId, body.currency, requested));
        const input: PayoutInput = {
          payoutId,
          merchantId,
          amount,
          currency: body.currency,
          automatic: false,
          description: body.description ?? null,
          provider: deps.config.payoutProvider,
          timing: deps.config.payoutTiming,
        };
        const started = await startPayout(deps.temporal, deps.config.taskQueue, input, deadline);
        if (started.kind === 'answered') return { status: 201, body: presentPayout(started.view) };
        const opening = openingPayoutView(input, new Date().toISOString());
        if (started.kind === 'running') return { status: 202, body: presentPayout(opening) };
        const row = await settledBy(ownPayout(merchantId, payoutId), deadline + readModelGraceMs);
        return row ? { status: 201, body: presentPayout(row) } : { status: 202, body: presentPayout(opening) };
      });
    },
  );

  app.get(
    '/v1/payouts',
    { schema: { tags: ['payouts'], querystring: PayoutListQuery, response: withErrors({ 200: PayoutList }) } },
    async (request) => {
      const { merchantId, query } = request;
      const where: Prisma.PayoutWhereInput = { merchantId };
      if (query.status) where.status = query.status;
      if (query.currency) where.currency = query.currency;
      const page = await listPage(
        pageRequest(query),
        {
          position: (id) =>
            deps.prisma.payout.findFirst({ where: { id, merchantId }, select: { id: true, createdAt: true } }),
          rows: (page) => deps.prisma.payout.findMany({ ...page, where: { AND: [where, page.where] } }),
        },
        'payout',
      );
      const cipher = cipherFor(requireKeyring(deps.config));
      return presentList(page, (row) => presentPayout(openPayoutDescription(cipher, row)));
    },
  );

  app.get(
    '/v1/payouts/:id',
    { schema: { tags: ['payouts'], params: IdParams, response: withErrors({ 200: Payout }) } },
    async (request) => {
      const row = await ownPayout(request.merchantId, request.params.id);
      if (!row) throw new PaymentsError('resource_missing', `No such payout: '${request.params.id}'.`, 'id');
      return presentPayout(row);
    },
  );
}
