import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { answerOnce, clientGone, installPersonality, type Personality } from './personality.ts';
import {
  defaultSettlementPageSize,
  linesAfter,
  maxSettlementPageSize,
  settlementFor,
  utcDayStartMs,
} from './settlements.ts';
import type { Simulator } from './simulator.ts';
import { matchesQuery, parseChargeQuery } from './stripe-search.ts';
import {
  stripeCharge,
  stripeError,
  stripeFailure,
  stripePayout,
  stripeRefund,
  stripeSettlement,
} from './stripe-shapes.ts';
import type { SimPayout } from './payouts.ts';

// The Stripe personality, mounted under /stripe: /v1/charges, capture, void, /v1/refunds,
// the lookups a caller uses when an answer was lost (charge search by metadata, a charge's
// refunds), a daily settlement report, paged like Stripe's lists (limit, starting_after,
// has_more), and /v1/payouts to merchants' banks (found again by metadata with Stripe's search
// syntax).

const AmountMinor = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const ObjectId = Type.String({ minLength: 1, maxLength: 255 });

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});
const ChargeParams = Type.Object({ id: ObjectId }, { additionalProperties: false });
// Stripe's limits: 50 keys of up to 40 characters, values up to 500.
const Metadata = Type.Record(Type.String({ maxLength: 40 }), Type.String({ maxLength: 500 }), { maxProperties: 50 });

const CreateChargeBody = Type.Object(
  {
    amount: AmountMinor,
    currency: Type.String({ pattern: '^[a-z]{3}$' }),
    source: ObjectId,
    capture: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
const CaptureBody = Type.Object({ amount: Type.Optional(AmountMinor) }, { additionalProperties: false });
const VoidBody = Type.Object({}, { additionalProperties: false });
const RefundBody = Type.Object(
  {
    charge: ObjectId,
    amount: Type.Optional(AmountMinor),
    reason: Type.Optional(
      Type.Union([Type.Literal('duplicate'), Type.Literal('fraudulent'), Type.Literal('requested_by_customer')]),
    ),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
const ListLimit = Type.Integer({ minimum: 1, maximum: 100, default: 10 });
const SearchQuery = Type.Object(
  { query: Type.String({ minLength: 1, maxLength: 2_000 }), limit: ListLimit },
  { additionalProperties: false },
);
const RefundListQuery = Type.Object({ charge: ObjectId, limit: ListLimit }, { additionalProperties: false });
const CreatePayoutBody = Type.Object(
  {
    amount: AmountMinor,
    currency: Type.String({ pattern: '^[a-z]{3}$' }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
const PayoutParams = Type.Object({ id: ObjectId }, { additionalProperties: false });
// Stripe's search language, the one clause payouts answer: metadata['key']:'value'.
const metadataClause = /^metadata\['([^']{1,40})'\]:'([^']{0,500})'$/;
const SettlementQuery = Type.Object(
  {
    date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
    currency: Type.Optional(Type.String({ pattern: '^[a-z]{3}$' })),
    limit: Type.Integer({ minimum: 1, maximum: maxSettlementPageSize, default: defaultSettlementPageSize }),
    starting_after: Type.Optional(ObjectId),
  },
  { additionalProperties: false },
);

export async function stripeRoutes(fastify: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const stripe: Personality = {
    provider: 'stripe',
    sim,
    errors: {
      unavailable: () => stripeError(503, 'api_error', 'service_unavailable', 'Stripe is temporarily unavailable.'),
      timedOut: () => stripeError(504, 'api_error', 'timeout', 'The request timed out.'),
      inProgress: () =>
        stripeError(
          409,
          'idempotency_error',
          'idempotency_request_in_progress',
          'A request with this Idempotency-Key is still being processed.',
        ),
      keyReused: () =>
        stripeError(
          400,
          'idempotency_error',
          'idempotency_key_reused',
          'Keys for idempotent requests can only be used with the same parameters they were first used with.',
        ),
      validation: ({ kind, param, message }) =>
        stripeError(400, 'invalid_request_error', `parameter_${kind}`, message, { param }),
      invalidJson: () => stripeError(400, 'invalid_request_error', 'parameter_invalid', 'Invalid JSON body.'),
      routeNotFound: (method, url) =>
        stripeError(404, 'invalid_request_error', 'resource_missing', `Unrecognized request URL (${method}: ${url}).`),
      internal: () => stripeError(500, 'api_error', 'internal_error', 'An unexpected error occurred.'),
    },
  };
  installPersonality(app, stripe);
  const processor = sim.processors.stripe;

  app.post(
    '/v1/charges',
    { schema: { headers: IdempotencyHeaders, body: CreateChargeBody }, config: { operation: 'authorize' } },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const { body } = request;
      return answerOnce(stripe, request, reply, key, async () => {
        const outcome = processor.authorize({
          amount: BigInt(body.amount),
          currency: body.currency.toUpperCase(),
          token: body.source,
          capture: body.capture ?? true,
          paymentId: body.metadata?.payment_id,
          metadata: body.metadata ?? {},
          attemptKey: key ?? body.metadata?.payment_id ?? body.source,
        });
        if (outcome.ok) return { status: 200, body: stripeCharge(outcome.value) };
        if (outcome.failure.kind === 'hang') await sim.sleep(sim.options.hangMs, clientGone(reply));
        return stripeFailure(outcome.failure);
      });
    },
  );

  app.post(
    '/v1/charges/:id/capture',
    {
      schema: { headers: IdempotencyHeaders, params: ChargeParams, body: CaptureBody },
      config: { operation: 'capture' },
    },
    async (request, reply) =>
      answerOnce(stripe, request, reply, request.headers['idempotency-key'], () => {
        const amount = request.body.amount === undefined ? undefined : BigInt(request.body.amount);
        const outcome = processor.capture(request.params.id, { amount });
        return outcome.ok ? { status: 200, body: stripeCharge(outcome.value) } : stripeFailure(outcome.failure);
      }),
  );

  app.post(
    '/v1/charges/:id/void',
    { schema: { headers: IdempotencyHeaders, params: ChargeParams, body: VoidBody }, config: { operation: 'void' } },
    async (request, reply) =>
      answerOnce(stripe, request, reply, request.headers['idempotency-key'], () => {
        const outcome = processor.void(request.params.id);
        return outcome.ok ? { status: 200, body: stripeCharge(outcome.value) } : stripeFailure(outcome.failure);
      }),
  );

  app.post(
    '/v1/refunds',
    { schema: { headers: IdempotencyHeaders, body: RefundBody }, config: { operation: 'refund' } },
    async (request, reply) =>
      answerOnce(stripe, request, reply, request.headers['idempotency-key'], () => {
        const amount = request.body.amount === undefined ? undefined : BigInt(request.body.amount);
        const outcome = processor.refund(request.body.charge, { amount, metadata: request.body.metadata });
        if (!outcome.ok) return stripeFailure(outcome.failure, 'charge');
        return { status: 200, body: stripeRefund(outcome.value.charge, outcome.value.refund) };
      }),
  );

  // Charges whose metadata matches, newest first (declined ones included, as `failed`).
  app.get(
    '/v1/charges/search',
    { schema: { querystring: SearchQuery }, config: { operation: 'lookup' } },
    async (request, reply) => {
      const wanted = parseChargeQuery(request.query.query);
      if (!wanted) {
        const response = stripeError(400, 'invalid_request_error', 'parameter_invalid', 'Invalid search query.', {
          param: 'query',
        });
        return reply.code(response.status).send(response.body);
      }
      const found = [...processor.all()].filter((charge) => matchesQuery(charge, wanted)).reverse();
      return {
        object: 'search_result' as const,
        url: '/v1/charges/search',
        has_more: found.length > request.query.limit,
        next_page: null,
        data: found.slice(0, request.query.limit).map(stripeCharge),
      };
    },
  );

  // A charge's refunds, newest first.
  app.get(
    '/v1/refunds',
    { schema: { querystring: RefundListQuery }, config: { operation: 'lookup' } },
    async (request, reply) => {
      const charge = processor.get(request.query.charge);
      if (!charge) {
        const response = stripeFailure({ kind: 'not_found' }, 'charge');
        return reply.code(response.status).send(response.body);
      }
      const refunds = [...charge.refunds].reverse();
      return {
        object: 'list' as const,
        url: '/v1/refunds',
        has_more: refunds.length > request.query.limit,
        data: refunds.slice(0, request.query.limit).map((refund) => stripeRefund(charge, refund)),
      };
    },
  );

  app.get(
    '/v1/charges/:id',
    { schema: { params: ChargeParams }, config: { operation: 'retrieve' } },
    async (request, reply) => {
      const charge = processor.get(request.params.id);
      const response = charge ? { status: 200, body: stripeCharge(charge) } : stripeFailure({ kind: 'not_found' });
      return reply.code(response.status).send(response.body);
    },
  );

  app.post('/v1/payouts', { schema: { headers: IdempotencyHeaders, body: CreatePayoutBody } }, async (request, reply) =>
    answerOnce(stripe, request, reply, request.headers['idempotency-key'], () => {
      const { body } = request;
      const outcome = sim.payouts.create({
        amount: BigInt(body.amount),
        currency: body.currency.toUpperCase(),
        description: body.description,
        metadata: body.metadata ?? {},
      });
      if (outcome.ok) return { status: 200, body: stripePayout(outcome.value) };
      const { failure } = outcome;
      return failure.kind === 'unknown_currency'
        ? stripeFailure({ kind: 'unknown_currency' })
        : stripeFailure({ kind: 'amount_too_large', limit: failure.limit });
    }),
  );

  app.get('/v1/payouts/search', { schema: { querystring: SearchQuery } }, async (request, reply) => {
    const clause = metadataClause.exec(request.query.query);
    if (!clause) {
      const response = stripeError(400, 'invalid_request_error', 'parameter_invalid', 'Unsupported search query.', {
        param: 'query',
      });
      return reply.code(response.status).send(response.body);
    }
    const [, key = '', value = ''] = clause;
    const found: SimPayout[] = [];
    for (const payout of sim.payouts.all()) if (payout.metadata[key] === value) found.push(payout);
    return { object: 'search_result' as const, data: found.map(stripePayout), has_more: false };
  });

  app.get('/v1/payouts/:id', { schema: { params: PayoutParams } }, async (request, reply) => {
    const payout = sim.payouts.get(request.params.id);
    const response = payout
      ? { status: 200, body: stripePayout(payout) }
      : stripeError(404, 'invalid_request_error', 'resource_missing', 'No such payout.', { param: 'id' });
    return reply.code(response.status).send(response.body);
  });

  app.get('/v1/settlements', { schema: { querystring: SettlementQuery } }, async (request, reply) => {
    const startMs = utcDayStartMs(request.query.date);
    if (startMs === undefined) {
      const response = stripeError(400, 'invalid_request_error', 'parameter_invalid', 'Invalid date.', {
        param: 'date',
      });
      return reply.code(response.status).send(response.body);
    }
    const { date, currency, limit, starting_after: startingAfter } = request.query;
    const settlement = settlementFor(processor.all(), date, startMs, currency?.toUpperCase());
    const page = linesAfter(settlement, startingAfter, limit);
    if (!page) {
      const response = stripeError(404, 'invalid_request_error', 'resource_missing', 'No such line.', {
        param: 'starting_after',
      });
      return reply.code(response.status).send(response.body);
    }
    return stripeSettlement(settlement, page);
  });
}
