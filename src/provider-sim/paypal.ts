import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { currencyOf } from '../domain/money.ts';
import { fromPayPalValue } from '../providers/paypal-amount.ts';
import type { SimResource, SimResponse } from './idempotency.ts';
import {
  paypalAuthorization,
  paypalCapture,
  paypalError,
  paypalFailure,
  paypalInvalid,
  paypalNotFound,
  paypalRefund,
  maxPayPalPageSize,
  paypalSettlement,
} from './paypal-shapes.ts';
import { answerOnce, clientGone, installPersonality, type Personality } from './personality.ts';
import { defaultSettlementPageSize, settlementFor, utcDayStartMs } from './settlements.ts';
import type { Simulator } from './simulator.ts';

// The PayPal personality, mounted under /paypal: /v2/payments/authorizations (create,
// capture, void, get), /v2/payments/captures/:id/refund, a lookup by PayPal-Request-Id
// (/v2/payments/requests/:id: what the request with that id made, as it is now) and a daily
// settlement report, paged like PayPal's reporting API (page, page_size, total_pages).

const Money = Type.Object(
  {
    currency_code: Type.String({ pattern: '^[A-Z]{3}$' }),
    // PayPal's own bound: at most 32 digits before the point.
    value: Type.String({ pattern: '^\\d{1,32}(\\.\\d{1,32})?$' }),
  },
  { additionalProperties: false },
);
type Money = Static<typeof Money>;
const ResourceId = Type.String({ minLength: 1, maxLength: 255 });
const RequestIdHeaders = Type.Object({
  'paypal-request-id': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});
const ResourceParams = Type.Object({ id: ResourceId }, { additionalProperties: false });
const RequestParams = Type.Object({ request_id: Type.String({ minLength: 1, maxLength: 255 }) });

const AuthorizeBody = Type.Object(
  {
    intent: Type.Optional(Type.Union([Type.Literal('AUTHORIZE'), Type.Literal('CAPTURE')])),
    amount: Money,
    payment_source: Type.Object(
      {
        token: Type.Object(
          { id: ResourceId, type: Type.Optional(Type.String({ maxLength: 64 })) },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    custom_id: Type.Optional(Type.String({ maxLength: 127 })),
    invoice_id: Type.Optional(Type.String({ maxLength: 127 })),
  },
  { additionalProperties: false },
);
const CaptureBody = Type.Object(
  {
    amount: Type.Optional(Money),
    final_capture: Type.Optional(Type.Boolean()),
    invoice_id: Type.Optional(Type.String({ maxLength: 127 })),
    note_to_payer: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);
const VoidBody = Type.Object({}, { additionalProperties: false });
const RefundBody = Type.Object(
  {
    amount: Type.Optional(Money),
    custom_id: Type.Optional(Type.String({ maxLength: 127 })),
    invoice_id: Type.Optional(Type.String({ maxLength: 127 })),
    note_to_payer: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);
const SettlementQuery = Type.Object(
  {
    date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
    transaction_currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    page_size: Type.Integer({ minimum: 1, maximum: maxPayPalPageSize, default: defaultSettlementPageSize }),
  },
  { additionalProperties: false },
);

type Parsed = { ok: true; amount: bigint; currency: string } | { ok: false; response: SimResponse };

/** A PayPal amount in minor units, or PayPal's answer to an amount it would refuse. */
function parseMoney(money: Money, field: string): Parsed {
  const currency = currencyOf(money.currency_code);
  if (!currency || currency.base !== 10n) {
    return {
      ok: false,
      response: paypalError(422, 'UNPROCESSABLE_ENTITY', 'The requested action could not be performed.', [
        { issue: 'CURRENCY_NOT_SUPPORTED', description: 'Currency code is not supported.' },
      ]),
    };
  }
  const decimals = money.value.split('.')[1]?.length ?? 0;
  if (BigInt(decimals) > currency.exponent) {
    return {
      ok: false,
      response: paypalError(422, 'UNPROCESSABLE_ENTITY', 'The requested action could not be performed.', [
        { issue: 'DECIMAL_PRECISION', description: `${currency.code} supports ${currency.exponent} decimal places.` },
      ]),
    };
  }
  const amount = fromPayPalValue(money.value, money.currency_code);
  if (amount <= 0n) {
    return { ok: false, response: paypalInvalid(field, 'INVALID_PARAMETER_VALUE', 'The amount must be positive.') };
  }
  return { ok: true, amount, currency: money.currency_code };
}

/** An optional amount of a capture or refund: absent means "all that remains". */
function optionalMoney(
  money: Money | undefined,
): { ok: true; change: { amount?: bigint; currency?: string } } | { ok: false; response: SimResponse } {
  if (!money) return { ok: true, change: {} };
  const parsed = parseMoney(money, '/amount/value');
  return parsed.ok ? { ok: true, change: { amount: parsed.amount, currency: parsed.currency } } : parsed;
}

export async function paypalRoutes(fastify: FastifyInstance, { sim }: { sim: Simulator }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const paypal: Personality = {
    provider: 'paypal',
    sim,
    errors: {
      unavailable: () => paypalError(503, 'SERVICE_UNAVAILABLE', 'Service Unavailable.'),
      timedOut: () => paypalError(504, 'GATEWAY_TIMEOUT', 'The request timed out.'),
      inProgress: () =>
        paypalError(409, 'RESOURCE_CONFLICT', 'The server has detected a conflict while processing this request.', [
          {
            issue: 'PREVIOUS_REQUEST_IN_PROGRESS',
            description: 'A request with this PayPal-Request-Id is in progress.',
          },
        ]),
      keyReused: () =>
        paypalError(422, 'UNPROCESSABLE_ENTITY', 'The requested action could not be performed.', [
          {
            issue: 'DUPLICATE_REQUEST_ID',
            description: 'The PayPal-Request-Id was already used with a different request.',
          },
        ]),
      validation: ({ kind, param, message }) =>
        paypalInvalid(
          `/${param.replace(/\./g, '/')}`,
          kind === 'missing'
            ? 'MISSING_REQUIRED_PARAMETER'
            : kind === 'unknown'
              ? 'UNKNOWN_FIELD'
              : 'INVALID_PARAMETER_VALUE',
          message,
        ),
      invalidJson: () => paypalInvalid('/', 'MALFORMED_REQUEST_JSON', 'The request JSON is not well formed.'),
      routeNotFound: () => paypalNotFound('The requested resource does not exist.'),
      internal: () => paypalError(500, 'INTERNAL_SERVER_ERROR', 'An internal server error occurred.'),
    },
  };
  installPersonality(app, paypal);
  const processor = sim.processors.paypal;

  app.post(
    '/v2/payments/authorizations',
    { schema: { headers: RequestIdHeaders, body: AuthorizeBody }, config: { operation: 'authorize' } },
    async (request, reply) => {
      const key = request.headers['paypal-request-id'];
      const { body } = request;
      return answerOnce(paypal, request, reply, key, async () => {
        const money = parseMoney(body.amount, '/amount/value');
        if (!money.ok) return money.response;
        const outcome = processor.authorize({
          amount: money.amount,
          currency: money.currency,
          token: body.payment_source.token.id,
          capture: body.intent === 'CAPTURE',
          paymentId: body.custom_id,
          metadata: body.custom_id === undefined ? {} : { custom_id: body.custom_id },
          attemptKey: key ?? body.custom_id ?? body.payment_source.token.id,
        });
        if (outcome.ok) {
          const resource = { kind: 'authorization', chargeId: outcome.value.id } as const;
          return { status: 201, body: paypalAuthorization(outcome.value), resource };
        }
        if (outcome.failure.kind === 'hang') await sim.sleep(sim.options.hangMs, clientGone(reply));
        const denied = outcome.failure.kind === 'declined' ? outcome.failure.charge.id : undefined;
        return {
          ...paypalFailure(outcome.failure, 'authorize'),
          ...(denied ? { resource: { kind: 'authorization', chargeId: denied } as const } : {}),
        };
      });
    },
  );

  app.post(
    '/v2/payments/authorizations/:id/capture',
    {
      schema: { headers: RequestIdHeaders, params: ResourceParams, body: CaptureBody },
      config: { operation: 'capture' },
    },
    async (request, reply) =>
      answerOnce(paypal, request, reply, request.headers['paypal-request-id'], () => {
        const amount = optionalMoney(request.body.amount);
        if (!amount.ok) return amount.response;
        const outcome = processor.capture(request.params.id, amount.change);
        return outcome.ok
          ? {
              status: 201,
              body: paypalCapture(outcome.value),
              resource: { kind: 'capture', chargeId: outcome.value.id },
            }
          : paypalFailure(outcome.failure, 'capture');
      }),
  );

  app.post(
    '/v2/payments/authorizations/:id/void',
    {
      schema: { headers: RequestIdHeaders, params: ResourceParams, body: VoidBody },
      config: { operation: 'void' },
    },
    async (request, reply) =>
      answerOnce(paypal, request, reply, request.headers['paypal-request-id'], () => {
        const outcome = processor.void(request.params.id);
        return outcome.ok
          ? {
              status: 200,
              body: paypalAuthorization(outcome.value),
              resource: { kind: 'authorization', chargeId: outcome.value.id },
            }
          : paypalFailure(outcome.failure, 'authorize');
      }),
  );

  app.post(
    '/v2/payments/captures/:id/refund',
    {
      schema: { headers: RequestIdHeaders, params: ResourceParams, body: RefundBody },
      config: { operation: 'refund' },
    },
    async (request, reply) =>
      answerOnce(paypal, request, reply, request.headers['paypal-request-id'], () => {
        const amount = optionalMoney(request.body.amount);
        if (!amount.ok) return amount.response;
        const outcome = processor.refund(request.params.id, amount.change);
        if (!outcome.ok) return paypalFailure(outcome.failure, 'refund');
        const { charge, refund } = outcome.value;
        return {
          status: 201,
          body: paypalRefund(charge, refund),
          resource: { kind: 'refund', chargeId: charge.id, refundId: refund.id },
        };
      }),
  );

  app.get(
    '/v2/payments/authorizations/:id',
    { schema: { params: ResourceParams }, config: { operation: 'retrieve' } },
    async (request, reply) => {
      const charge = processor.get(request.params.id);
      const response = charge ? { status: 200, body: paypalAuthorization(charge) } : paypalNotFound();
      return reply.code(response.status).send(response.body);
    },
  );

  // What the request sent with this PayPal-Request-Id made, as it is now: 404 when no such
  // request arrived (or it made nothing), 409 while it still runs.
  app.get(
    '/v2/payments/requests/:request_id',
    { schema: { params: RequestParams }, config: { operation: 'lookup' } },
    async (request, reply) => {
      const response = requestLookup(request.params.request_id);
      return reply.code(response.status).send(response.body);
    },
  );

  function requestLookup(requestId: string): SimResponse {
    const known = sim.idempotency.paypal.peek(requestId);
    if (known.state === 'running') return paypal.errors.inProgress();
    const resource = known.state === 'done' ? known.response.resource : undefined;
    const shown = resource ? present(resource) : undefined;
    if (!resource || !shown) return paypalNotFound('No request with this PayPal-Request-Id made a resource.');
    return {
      status: 200,
      body: { request_id: requestId, status: 'COMPLETED', resource_type: resource.kind, resource: shown },
    };
  }

  function present(resource: SimResource): unknown {
    const charge = processor.get(resource.chargeId);
    if (!charge) return undefined;
    if (resource.kind === 'authorization') return paypalAuthorization(charge);
    if (resource.kind === 'capture') return paypalCapture(charge);
    const refund = charge.refunds.find((candidate) => candidate.id === resource.refundId);
    return refund ? paypalRefund(charge, refund) : undefined;
  }

  app.get('/v1/reporting/settlements', { schema: { querystring: SettlementQuery } }, async (request, reply) => {
    const startMs = utcDayStartMs(request.query.date);
    if (startMs === undefined) {
      const response = paypalInvalid('date', 'INVALID_PARAMETER_VALUE', 'Not a calendar date.');
      return reply.code(response.status).send(response.body);
    }
    const { date, transaction_currency: currency, page, page_size: pageSize } = request.query;
    const settlement = settlementFor(processor.all(), date, startMs, currency);
    return paypalSettlement(settlement, { page, pageSize });
  });
}
