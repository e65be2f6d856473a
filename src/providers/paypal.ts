import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { PaymentsError, type ErrorCode } from '../domain/errors.ts';
import { isCurrencyCode } from '../domain/money.ts';
import {
  assertSendableAmount,
  createHttpClient,
  expectBody,
  type HttpPaymentProvider,
  type HttpResponse,
} from './http.ts';
import { fromPayPalMoney, toPayPalMoney } from './paypal-amount.ts';
import {
  ProviderUnavailableError,
  type AuthorizeRequest,
  type ChargeLookup,
  type ChargeStatus,
  type ProviderCharge,
  type ProviderRefund,
} from './provider.ts';

// PayPal's Payments v2 API: decimal-string amounts, PayPal-Request-Id for idempotency.
// Our charge is PayPal's authorization; its single capture carries the authorization's id.

export interface PayPalProviderOptions {
  /** PayPal's origin (or the simulator's /paypal prefix); paths start with /v2. */
  baseUrl: string;
  /** Deadline for each request: connect, headers and body together. */
  timeoutMs: number;
  /** OAuth access token, sent as Bearer; the simulator accepts anything. */
  accessToken?: string;
  maxConnections?: number;
}

const Money = Type.Object({ currency_code: Type.String({ minLength: 3, maxLength: 3 }), value: Type.String() });

export const PayPalAuthorization = Type.Object({
  id: Type.String({ minLength: 1 }),
  status: Type.String(),
  status_details: Type.Optional(Type.Object({ reason: Type.Optional(Type.String()) })),
  amount: Money,
  payment_source: Type.Object({ card: Type.Object({ brand: Type.String(), last_digits: Type.String() }) }),
  payments: Type.Optional(
    Type.Object({
      captures: Type.Array(Type.Object({ id: Type.String(), status: Type.String(), amount: Money })),
      refunds: Type.Array(Type.Object({ id: Type.String(), status: Type.String(), amount: Money })),
    }),
  ),
});
export type PayPalAuthorization = Static<typeof PayPalAuthorization>;

const PayPalCapture = Type.Object({ id: Type.String({ minLength: 1 }), status: Type.String(), amount: Money });
const PayPalRefund = Type.Object({ id: Type.String({ minLength: 1 }), status: Type.String(), amount: Money });

// The simulator's lookup by PayPal-Request-Id: what the request with that id made.
const PayPalRequestLookup = Type.Object({
  request_id: Type.String(),
  resource_type: Type.String(),
  resource: Type.Unknown(),
});

const PayPalErrorBody = Type.Object({
  name: Type.String(),
  message: Type.Optional(Type.String()),
  details: Type.Optional(Type.Array(Type.Object({ issue: Type.String(), description: Type.Optional(Type.String()) }))),
});

const authorizationValidator = Compile(PayPalAuthorization);
const captureValidator = Compile(PayPalCapture);
const refundValidator = Compile(PayPalRefund);
const errorValidator = Compile(PayPalErrorBody);
const requestLookupValidator = Compile(PayPalRequestLookup);

const statusOf: Record<string, ChargeStatus> = {
  CREATED: 'authorized',
  PENDING: 'authorized',
  PARTIALLY_CAPTURED: 'captured',
  CAPTURED: 'captured',
  VOIDED: 'voided',
};

// PayPal's `issue` names for a refused request, by what they mean to us.
const issueCodes: Record<string, ErrorCode> = {
  INSTRUMENT_DECLINED: 'card_declined',
  INSUFFICIENT_FUNDS: 'insufficient_funds',
  TRANSACTION_LIMIT_EXCEEDED: 'amount_too_large',
  MAX_CAPTURE_AMOUNT_EXCEEDED: 'amount_too_large',
  REFUND_AMOUNT_EXCEEDED: 'amount_too_large',
  AUTHORIZATION_ALREADY_CAPTURED: 'payment_unexpected_state',
  AUTHORIZATION_VOIDED: 'payment_unexpected_state',
  AUTHORIZATION_DENIED: 'payment_unexpected_state',
  CAPTURE_FULLY_REFUNDED: 'payment_unexpected_state',
  CURRENCY_MISMATCH: 'currency_mismatch',
};

/** A PayPal authorization as our ProviderCharge; also for resources in webhook events. */
export function chargeFromPayPal(authorization: PayPalAuthorization): ProviderCharge {
  const status = statusOf[authorization.status];
  if (!status) {
    throw new PaymentsError('provider_unavailable', `paypal authorization in unknown status ${authorization.status}.`);
  }
  const sum = (items: { status: string; amount: { currency_code: string; value: string } }[] = []) =>
    items
      .filter((item) => item.status !== 'DECLINED' && item.status !== 'FAILED')
      .reduce((total, item) => total + fromPayPalMoney(item.amount), 0n);
  return {
    provider: 'paypal',
    chargeId: authorization.id,
    status,
    amount: fromPayPalMoney(authorization.amount),
    amountCaptured: sum(authorization.payments?.captures),
    amountRefunded: sum(authorization.payments?.refunds),
    currency: authorization.amount.currency_code,
    card: {
      brand: authorization.payment_source.card.brand.toLowerCase(),
      last4: authorization.payment_source.card.last_digits,
    },
  };
}

export function errorFromPayPal(response: HttpResponse): PaymentsError {
  const error = errorValidator.Check(response.body) ? response.body : undefined;
  const issue = error?.details?.[0];
  const message = issue?.description ?? error?.message ?? `paypal answered ${response.status}.`;
  switch (response.status) {
    case 404:
      return new PaymentsError('resource_missing', message);
    // 401/403: our token was refused, nothing was done. 409: a request with the same
    // PayPal-Request-Id is still running, so its outcome is not known yet. Either way this
    // provider cannot serve us now and another one may.
    case 401:
    case 403:
    case 409:
      return new ProviderUnavailableError(`paypal answered ${response.status}: ${message}`, response.status === 409);
  }
  const code = issue ? issueCodes[issue.issue] : undefined;
  return new PaymentsError(code ?? 'parameter_invalid', message, code === 'amount_too_large' ? 'amount' : undefined);
}

/** What an authorize request made, from its lookup: the authorization, or its decline. */
export function lookupFromPayPal(authorization: PayPalAuthorization): ChargeLookup {
  if (authorization.status === 'DENIED') {
    const reason = authorization.status_details?.reason;
    return { found: 'declined', code: reason === 'INSUFFICIENT_FUNDS' ? 'insufficient_funds' : 'card_declined' };
  }
  return { found: 'charge', charge: chargeFromPayPal(authorization) };
}

export function createPayPalProvider(options: PayPalProviderOptions): HttpPaymentProvider {
  const http = createHttpClient({
    provider: 'paypal',
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    maxConnections: options.maxConnections,
    headers: options.accessToken ? { authorization: `Bearer ${options.accessToken}` } : {},
  });

  async function post(path: string, requestId: string, body: Record<string, unknown>): Promise<HttpResponse> {
    const response = await http.send('POST', path, {
      body,
      headers: { 'paypal-request-id': requestId, prefer: 'return=representation' },
    });
    if (response.status !== 200 && response.status !== 201) throw errorFromPayPal(response);
    return response;
  }

  const authorizationPath = (id: string) => `/v2/payments/authorizations/${encodeURIComponent(id)}`;

  /** What the request with this PayPal-Request-Id made, or undefined when PayPal has nothing from it. */
  async function lookUpRequest(requestId: string, resourceType: 'authorization' | 'refund'): Promise<unknown> {
    const response = await http.send('GET', `/v2/payments/requests/${encodeURIComponent(requestId)}`);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw errorFromPayPal(response);
    const lookup = expectBody('paypal', requestLookupValidator, response);
    if (lookup.resource_type !== resourceType) {
      throw new PaymentsError('provider_unavailable', `paypal request ${requestId} made a ${lookup.resource_type}.`);
    }
    return lookup.resource;
  }

  async function fetchAuthorization(id: string): Promise<PayPalAuthorization> {
    const response = await http.send('GET', authorizationPath(id));
    if (response.status !== 200) throw errorFromPayPal(response);
    return expectBody('paypal', authorizationValidator, response);
  }

  return {
    name: 'paypal',

    async authorize(request: AuthorizeRequest): Promise<ProviderCharge> {
      assertSendableAmount(request.amount);
      if (!isCurrencyCode(request.currency)) {
        throw new PaymentsError('parameter_invalid', `Unknown ISO 4217 currency: ${request.currency}.`, 'currency');
      }
      const response = await post('/v2/payments/authorizations', request.idempotencyKey, {
        intent: request.capture ? 'CAPTURE' : 'AUTHORIZE',
        amount: toPayPalMoney(request.amount, request.currency),
        payment_source: { token: { id: request.token, type: 'CARD_TOKEN' } },
        custom_id: request.paymentId,
      });
      return chargeFromPayPal(expectBody('paypal', authorizationValidator, response));
    },

    async capture({ idempotencyKey, chargeId, amount }): Promise<ProviderCharge> {
      assertSendableAmount(amount);
      // PayPal wants the currency with the amount; the authorization knows it. Read before the
      // capture, the authorization plus the capture's answer give the result without a third call.
      const authorization = await fetchAuthorization(chargeId);
      const response = await post(`${authorizationPath(chargeId)}/capture`, idempotencyKey, {
        amount: toPayPalMoney(amount, authorization.amount.currency_code),
        final_capture: true,
      });
      const capture = expectBody('paypal', captureValidator, response);
      return {
        ...chargeFromPayPal(authorization),
        status: 'captured',
        amountCaptured: fromPayPalMoney(capture.amount),
      };
    },

    async void({ idempotencyKey, chargeId }): Promise<ProviderCharge> {
      const response = await post(`${authorizationPath(chargeId)}/void`, idempotencyKey, {});
      return chargeFromPayPal(expectBody('paypal', authorizationValidator, response));
    },

    async refund({ idempotencyKey, chargeId, amount }): Promise<ProviderRefund> {
      assertSendableAmount(amount);
      const authorization = await fetchAuthorization(chargeId);
      // The simulator's capture carries its authorization's id (one capture per authorization).
      const response = await post(`/v2/payments/captures/${encodeURIComponent(chargeId)}/refund`, idempotencyKey, {
        amount: toPayPalMoney(amount, authorization.amount.currency_code),
      });
      const refund = expectBody('paypal', refundValidator, response);
      return { provider: 'paypal', refundId: refund.id, chargeId, amount: fromPayPalMoney(refund.amount) };
    },

    async get(chargeId: string): Promise<ProviderCharge> {
      return chargeFromPayPal(await fetchAuthorization(chargeId));
    },

    async findCharge({ idempotencyKey }): Promise<ChargeLookup> {
      const found = await lookUpRequest(idempotencyKey, 'authorization');
      if (!found) return { found: 'nothing' };
      return lookupFromPayPal(expectBody('paypal', authorizationValidator, { status: 200, body: found }));
    },

    async findRefund({ idempotencyKey, chargeId }): Promise<ProviderRefund | undefined> {
      const found = await lookUpRequest(idempotencyKey, 'refund');
      if (!found) return undefined;
      const refund = expectBody('paypal', refundValidator, { status: 200, body: found });
      return { provider: 'paypal', refundId: refund.id, chargeId, amount: fromPayPalMoney(refund.amount) };
    },

    close: () => http.close(),
  };
}
