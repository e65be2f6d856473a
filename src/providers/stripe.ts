import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { PaymentsError } from '../domain/errors.ts';
import { isCurrencyCode, toJsonAmount } from '../domain/money.ts';
import {
  assertSendableAmount,
  createHttpClient,
  expectBody,
  type HttpPaymentProvider,
  type HttpResponse,
} from './http.ts';
import {
  ProviderUnavailableError,
  type AuthorizeRequest,
  type ChargeLookup,
  type ProviderCharge,
  type ProviderRefund,
  type RefundRequest,
} from './provider.ts';

// Stripe's Charges API: integer minor units, lower-case currencies, Idempotency-Key header.

export interface StripeProviderOptions {
  /** Stripe's origin (or the simulator's /stripe prefix); paths start with /v1. */
  baseUrl: string;
  /** Deadline for each request: connect, headers and body together. */
  timeoutMs: number;
  /** Sent as a Bearer token; the simulator accepts anything. */
  apiKey?: string;
  maxConnections?: number;
}

export const StripeChargeObject = Type.Object({
  id: Type.String({ minLength: 1 }),
  object: Type.Literal('charge'),
  amount: Type.Integer({ minimum: 0 }),
  amount_captured: Type.Integer({ minimum: 0 }),
  amount_refunded: Type.Integer({ minimum: 0 }),
  captured: Type.Boolean(),
  refunded: Type.Boolean(),
  status: Type.String(),
  currency: Type.String({ minLength: 3, maxLength: 3 }),
  payment_method_details: Type.Object({ card: Type.Object({ brand: Type.String(), last4: Type.String() }) }),
  metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
  outcome: Type.Optional(Type.Object({ reason: Type.Optional(Type.Union([Type.String(), Type.Null()])) })),
});
export type StripeChargeObject = Static<typeof StripeChargeObject>;

const StripeRefundObject = Type.Object({
  id: Type.String({ minLength: 1 }),
  object: Type.Literal('refund'),
  amount: Type.Integer({ minimum: 1 }),
  charge: Type.String(),
  metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
});

const StripeChargeSearch = Type.Object({
  object: Type.Literal('search_result'),
  data: Type.Array(StripeChargeObject),
});
const StripeRefundList = Type.Object({ object: Type.Literal('list'), data: Type.Array(StripeRefundObject) });

const StripeErrorBody = Type.Object({
  error: Type.Object({
    type: Type.String(),
    code: Type.Optional(Type.String()),
    decline_code: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
    param: Type.Optional(Type.String()),
  }),
});

const chargeValidator = Compile(StripeChargeObject);
const refundValidator = Compile(StripeRefundObject);
const chargeSearchValidator = Compile(StripeChargeSearch);
const refundListValidator = Compile(StripeRefundList);
const errorValidator = Compile(StripeErrorBody);

// Answers that mean "the charge is not in a state for this", not "your request is malformed".
const stateErrorCodes = new Set([
  'charge_already_captured',
  'charge_already_refunded',
  'charge_not_captured',
  'charge_failed',
  'charge_expired_for_capture',
]);

// Stripe's parameter names → ours, so an error's `param` means something to our caller.
const ourParam: Record<string, string> = { source: 'token', amount: 'amount', currency: 'currency' };

/**
 * A Stripe charge as our ProviderCharge; also for charges in webhook events. Stripe reports the
 * uncaptured remainder of a partial capture, and a whole cancelled authorization, as
 * `amount_refunded`; we count only money actually given back after a capture.
 */
export function chargeFromStripe(charge: StripeChargeObject): ProviderCharge {
  const amount = BigInt(charge.amount);
  const common = {
    provider: 'stripe' as const,
    chargeId: charge.id,
    amount,
    currency: charge.currency.toUpperCase(),
    card: { brand: charge.payment_method_details.card.brand, last4: charge.payment_method_details.card.last4 },
  };
  if (!charge.captured) {
    return { ...common, status: charge.refunded ? 'voided' : 'authorized', amountCaptured: 0n, amountRefunded: 0n };
  }
  const amountCaptured = BigInt(charge.amount_captured);
  const released = amount - amountCaptured;
  return { ...common, status: 'captured', amountCaptured, amountRefunded: BigInt(charge.amount_refunded) - released };
}

export function errorFromStripe(response: HttpResponse): PaymentsError {
  const error = errorValidator.Check(response.body) ? response.body.error : undefined;
  const message = error?.message ?? `stripe answered ${response.status}.`;
  const param = error?.param === undefined ? undefined : ourParam[error.param];
  switch (response.status) {
    case 402:
      return new PaymentsError(
        error?.decline_code === 'insufficient_funds' || error?.code === 'insufficient_funds'
          ? 'insufficient_funds'
          : 'card_declined',
        message,
      );
    case 404:
      return new PaymentsError('resource_missing', message, param);
    // 401/403: our credentials were refused, nothing was done. 409: another request with the
    // same key is still running, so its outcome is not known yet. Either way this provider
    // cannot serve us now and another one may.
    case 401:
    case 403:
    case 409:
      return new ProviderUnavailableError(`stripe answered ${response.status}: ${message}`, response.status === 409);
  }
  if (error?.code === 'amount_too_large') return new PaymentsError('amount_too_large', message, 'amount');
  if (error?.code !== undefined && stateErrorCodes.has(error.code)) {
    return new PaymentsError('payment_unexpected_state', message);
  }
  return new PaymentsError('parameter_invalid', message, param);
}

/** What a charge search found for one payment: its charge, its decline, or nothing. */
export function lookupFromStripe(charges: StripeChargeObject[]): ChargeLookup {
  // One authorize key per payment and provider: an approved charge, if any, is the one.
  const approved = charges.find((charge) => charge.status !== 'failed');
  if (approved) return { found: 'charge', charge: chargeFromStripe(approved) };
  const declined = charges[0];
  if (!declined) return { found: 'nothing' };
  return {
    found: 'declined',
    code: declined.outcome?.reason === 'insufficient_funds' ? 'insufficient_funds' : 'card_declined',
  };
}

/** A quoted value in Stripe's search language; our ids never need escaping, so others are refused. */
function searchValue(value: string): string {
  if (!/^[A-Za-z0-9_:.-]{1,255}$/.test(value)) {
    throw new PaymentsError('parameter_invalid', 'An id to search for has characters a search cannot carry.');
  }
  return `'${value}'`;
}

export function createStripeProvider(options: StripeProviderOptions): HttpPaymentProvider {
  const http = createHttpClient({
    provider: 'stripe',
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    maxConnections: options.maxConnections,
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
  });

  async function post(path: string, idempotencyKey: string, body: Record<string, unknown>): Promise<HttpResponse> {
    const response = await http.send('POST', path, { body, headers: { 'idempotency-key': idempotencyKey } });
    if (response.status !== 200) throw errorFromStripe(response);
    return response;
  }

  const chargePath = (chargeId: string) => `/v1/charges/${encodeURIComponent(chargeId)}`;
  const charge = (response: HttpResponse) => chargeFromStripe(expectBody('stripe', chargeValidator, response));

  return {
    name: 'stripe',

    async authorize(request: AuthorizeRequest): Promise<ProviderCharge> {
      assertSendableAmount(request.amount);
      if (!isCurrencyCode(request.currency)) {
        throw new PaymentsError('parameter_invalid', `Unknown ISO 4217 currency: ${request.currency}.`, 'currency');
      }
      const response = await post('/v1/charges', request.idempotencyKey, {
        amount: toJsonAmount(request.amount),
        currency: request.currency.toLowerCase(),
        source: request.token,
        capture: request.capture,
        metadata: { payment_id: request.paymentId },
      });
      return charge(response);
    },

    async capture({ idempotencyKey, chargeId, amount }): Promise<ProviderCharge> {
      assertSendableAmount(amount);
      return charge(await post(`${chargePath(chargeId)}/capture`, idempotencyKey, { amount: toJsonAmount(amount) }));
    },

    async void({ idempotencyKey, chargeId }): Promise<ProviderCharge> {
      return charge(await post(`${chargePath(chargeId)}/void`, idempotencyKey, {}));
    },

    async refund({ idempotencyKey, chargeId, amount, ids }: RefundRequest): Promise<ProviderRefund> {
      assertSendableAmount(amount);
      const response = await post('/v1/refunds', idempotencyKey, {
        charge: chargeId,
        amount: toJsonAmount(amount),
        // Our ids in the refund's metadata, so a lost answer can be found among the charge's refunds.
        ...(ids ? { metadata: { payment_id: ids.paymentId, refund_id: ids.refundId } } : {}),
      });
      const refund = expectBody('stripe', refundValidator, response);
      return { provider: 'stripe', refundId: refund.id, chargeId: refund.charge, amount: BigInt(refund.amount) };
    },

    async get(chargeId: string): Promise<ProviderCharge> {
      const response = await http.send('GET', chargePath(chargeId));
      if (response.status !== 200) throw errorFromStripe(response);
      return charge(response);
    },

    async findCharge({ paymentId }): Promise<ChargeLookup> {
      const query = encodeURIComponent(`metadata['payment_id']:${searchValue(paymentId)}`);
      const response = await http.send('GET', `/v1/charges/search?query=${query}&limit=10`);
      if (response.status !== 200) throw errorFromStripe(response);
      return lookupFromStripe(expectBody('stripe', chargeSearchValidator, response).data);
    },

    async findRefund({ chargeId, refundId }): Promise<ProviderRefund | undefined> {
      const response = await http.send('GET', `/v1/refunds?charge=${encodeURIComponent(chargeId)}&limit=100`);
      if (response.status !== 200) throw errorFromStripe(response);
      const refund = expectBody('stripe', refundListValidator, response).data.find(
        (candidate) => candidate.metadata?.refund_id === refundId,
      );
      if (!refund) return undefined;
      return { provider: 'stripe', refundId: refund.id, chargeId: refund.charge, amount: BigInt(refund.amount) };
    },

    close: () => http.close(),
  };
}
