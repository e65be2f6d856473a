import { createHash, createHmac } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PaymentsError, type ErrorCode } from '../../src/domain/errors.ts';
import { startProviderSim } from '../../src/provider-sim/server.ts';
import type { HttpPaymentProvider } from '../../src/providers/http.ts';
import { createPayPalProvider } from '../../src/providers/paypal.ts';
import type { AuthorizeRequest, ProviderCharge, ProviderName } from '../../src/providers/provider.ts';
import { createProviderRouter, type ProviderRouter } from '../../src/providers/router.ts';
import { createStripeProvider } from '../../src/providers/stripe.ts';
import { createStripeSettlementReports } from '../../src/providers/stripe-settlements.ts';
import { createPayPalSettlementReports } from '../../src/providers/paypal-settlements.ts';
import { verifyPayPalSignature, verifyStripeSignature } from '../../src/providers/webhook-signatures.ts';
import { freePort } from '../../src/temporal/dev-server.ts';
import type { ProcessorStats } from '../../src/provider-sim/processor.ts';
import type { WebhookStats } from '../../src/provider-sim/webhooks.ts';

// The real simulator in-process on a free port, both adapters against it over HTTP, and a
// local receiver for its webhooks. No mocks.

const secrets = { stripe: 'whsec_stripe_test', paypal: 'paypal_webhook_test' } as const;
const providers = ['stripe', 'paypal'] as const;
const clientTimeoutMs = 2_000;

interface Delivery {
  provider: ProviderName;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  event: {
    id: string;
    type?: string;
    event_type?: string;
    data?: { object: Record<string, unknown> };
    resource?: Record<string, unknown>;
  };
  status: number;
}

/** Collects webhooks with their raw bodies; answers 500 to the next `failNext[provider]` deliveries. */
async function startReceiver() {
  const deliveries: Delivery[] = [];
  const failNext: Record<ProviderName, number> = { stripe: 0, paypal: 0 };
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.post<{ Params: { provider: ProviderName }; Body: string }>('/webhooks/:provider', async (request, reply) => {
    const { provider } = request.params;
    const status = failNext[provider] > 0 ? 500 : 200;
    if (status === 500) failNext[provider]--;
    deliveries.push({
      provider,
      headers: request.headers,
      rawBody: request.body,
      event: JSON.parse(request.body) as Delivery['event'],
      status,
    });
    return reply.code(status).send({ received: status === 200 });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, deliveries, failNext };
}

let sim: FastifyInstance;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let baseUrl: string;
let adapters: Record<ProviderName, HttpPaymentProvider>;
const routers: ProviderRouter[] = [];
const extraAdapters: HttpPaymentProvider[] = [];

function adapterFor(provider: ProviderName, timeoutMs: number): HttpPaymentProvider {
  const adapter =
    provider === 'stripe'
      ? createStripeProvider({ baseUrl: `${baseUrl}/stripe`, timeoutMs })
      : createPayPalProvider({ baseUrl: `${baseUrl}/paypal`, timeoutMs });
  extraAdapters.push(adapter);
  return adapter;
}

async function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.status, `${method} ${path}`).toBeLessThan(300);
  return (await response.json()) as T;
}

type ProviderStats = ProcessorStats & { webhooks: WebhookStats };

const stats = () => admin<Record<ProviderName, ProviderStats>>('GET', '/admin/stats');

async function failure(promise: Promise<unknown>): Promise<PaymentsError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PaymentsError);
  return error as PaymentsError;
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<PaymentsError> {
  const error = await failure(promise);
  expect({ code: error.code, message: error.message }).toMatchObject({ code });
  return error;
}

let sequence = 0;
function authorizeRequest(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  sequence++;
  return {
    idempotencyKey: `pay_${sequence}:authorize`,
    paymentId: `pay_${sequence}`,
    amount: 1500n,
    currency: 'USD',
    token: 'tok_visa',
    capture: false,
    ...overrides,
  };
}

const eventType = (delivery: Delivery) => delivery.event.type ?? delivery.event.event_type;

beforeAll(async () => {
  receiver = await startReceiver();
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  sim = await startProviderSim('127.0.0.1', port, {
    hangMs: 10_000,
    webhookBaseDelayMs: 20,
    webhookMaxAttempts: 4,
    webhookReorderWindowMs: 500,
    stripe: { webhookUrl: `${receiver.url}/webhooks/stripe`, webhookSecret: secrets.stripe },
    paypal: { webhookUrl: `${receiver.url}/webhooks/paypal`, webhookSecret: secrets.paypal },
  });
  adapters = {
    stripe: createStripeProvider({ baseUrl: `${baseUrl}/stripe`, timeoutMs: clientTimeoutMs }),
    paypal: createPayPalProvider({ baseUrl: `${baseUrl}/paypal`, timeoutMs: clientTimeoutMs }),
  };
});

afterAll(async () => {
  for (const router of routers) router.shutdown();
  await Promise.all([...Object.values(adapters ?? {}), ...extraAdapters].map((adapter) => adapter.close()));
  await sim?.close();
  await receiver?.app.close();
});

beforeEach(async () => {
  // Let the previous test's webhooks land first, so none arrives in (or fails for) this one.
  await expect
    .poll(async () => {
      const current = await stats();
      return current.stripe.webhooks.pending + current.paypal.webhooks.pending;
    })
    .toBe(0);
  await admin('POST', '/admin/reset');
  receiver.deliveries.length = 0;
  receiver.failNext.stripe = 0;
  receiver.failNext.paypal = 0;
});

describe.each(providers)('%s adapter against the simulator', (provider) => {
  const card = { brand: 'visa', last4: '4242' };

  it('authorizes, then captures in full', async () => {
    const adapter = adapters[provider];
    const request = authorizeRequest();
    const authorized = await adapter.authorize(request);
    expect(authorized).toEqual({
      provider,
      chargeId: expect.any(String),
      status: 'authorized',
      amount: 1500n,
      amountCaptured: 0n,
      amountRefunded: 0n,
      currency: 'USD',
      card,
    });
    const captured = await adapter.capture({
      idempotencyKey: `${request.paymentId}:capture`,
      chargeId: authorized.chargeId,
      amount: 1500n,
    });
    expect(captured).toEqual({ ...authorized, status: 'captured', amountCaptured: 1500n });
    await expect(adapter.get(authorized.chargeId)).resolves.toEqual(captured);
    expect((await stats())[provider]).toMatchObject({ charges: 1, captures: 1, declines: 0, refunds: 0 });
  });

  it('captures part of an authorization, once', async () => {
    const adapter = adapters[provider];
    const request = authorizeRequest({ amount: 2000n, token: 'tok_mastercard' });
    const { chargeId } = await adapter.authorize(request);
    const captured = await adapter.capture({ idempotencyKey: `${request.paymentId}:capture`, chargeId, amount: 1200n });
    expect(captured).toMatchObject({
      status: 'captured',
      amount: 2000n,
      amountCaptured: 1200n,
      amountRefunded: 0n,
      card: { brand: 'mastercard', last4: '4444' },
    });
    await expect(adapter.get(chargeId)).resolves.toEqual(captured);
    await expectCode(
      adapter.capture({ idempotencyKey: `${request.paymentId}:capture:2`, chargeId, amount: 100n }),
      'payment_unexpected_state',
    );
  });

  it('refuses a capture above the authorization', async () => {
    const adapter = adapters[provider];
    const request = authorizeRequest({ amount: 1000n });
    const { chargeId } = await adapter.authorize(request);
    await expectCode(
      adapter.capture({ idempotencyKey: `${request.paymentId}:capture`, chargeId, amount: 1001n }),
      'amount_too_large',
    );
  });

  it('voids an uncaptured authorization', async () => {
    const adapter = adapters[provider];
    const request = authorizeRequest();
    const { chargeId } = await adapter.authorize(request);
    const voided = await adapter.void({ idempotencyKey: `${request.paymentId}:void`, chargeId });
    expect(voided).toEqual({
      provider,
      chargeId,
      status: 'voided',
      amount: 1500n,
      amountCaptured: 0n,
      amountRefunded: 0n,
      currency: 'USD',
      card,
    });
    await expect(adapter.get(chargeId)).resolves.toEqual(voided);
    await expectCode(
      adapter.capture({ idempotencyKey: `${request.paymentId}:capture`, chargeId, amount: 1500n }),
      'payment_unexpected_state',
    );
    expect((await stats())[provider]).toMatchObject({ charges: 1, voids: 1, captures: 0 });
  });

  it('refunds in parts, never above what was captured minus refunded', async () => {
    const adapter = adapters[provider];
    const request = authorizeRequest({ amount: 1000n, capture: true });
    const charge = await adapter.authorize(request);
    expect(charge).toMatchObject({ status: 'captured', amountCaptured: 1000n });
    const refund = (n: number, amount: bigint) =>
      adapter.refund({ idempotencyKey: `${request.paymentId}:refund:${n}`, chargeId: charge.chargeId, amount });

    await expect(refund(1, 300n)).resolves.toEqual({
      provider,
      refundId: expect.any(String),
      chargeId: charge.chargeId,
      amount: 300n,
    });
    await expect(refund(2, 200n)).resolves.toMatchObject({ amount: 200n });
    await expect(adapter.get(charge.chargeId)).resolves.toMatchObject({ amountCaptured: 1000n, amountRefunded: 500n });
    await expectCode(refund(3, 501n), 'amount_too_large');
    await expect(refund(4, 500n)).resolves.toMatchObject({ amount: 500n });
    await expect(adapter.get(charge.chargeId)).resolves.toMatchObject({ status: 'captured', amountRefunded: 1000n });
    await expectCode(refund(5, 1n), 'payment_unexpected_state');
    expect((await stats())[provider]).toMatchObject({ charges: 1, refunds: 3 });
  });

  it('refunds only what a partial capture took', async () => {
    const adapter = adapters[provider];
    const request = authorizeRequest({ amount: 1000n });
    const { chargeId } = await adapter.authorize(request);
    await adapter.capture({ idempotencyKey: `${request.paymentId}:capture`, chargeId, amount: 600n });
    await expectCode(
      adapter.refund({ idempotencyKey: `${request.paymentId}:refund:1`, chargeId, amount: 601n }),
      'amount_too_large',
    );
    await adapter.refund({ idempotencyKey: `${request.paymentId}:refund:2`, chargeId, amount: 250n });
    await expect(adapter.get(chargeId)).resolves.toMatchObject({ amountCaptured: 600n, amountRefunded: 250n });
  });

  it('maps declines to card_declined and insufficient_funds', async () => {
    const adapter = adapters[provider];
    await expectCode(adapter.authorize(authorizeRequest({ token: 'tok_chargeDeclined' })), 'card_declined');
    await expectCode(adapter.authorize(authorizeRequest({ token: 'tok_insufficientFunds' })), 'insufficient_funds');
    expect((await stats())[provider]).toMatchObject({ charges: 0, declines: 2 });
  });

  it('approves tok_riskHigh: stopping it is our risk rules’ job', async () => {
    await expect(adapters[provider].authorize(authorizeRequest({ token: 'tok_riskHigh' }))).resolves.toMatchObject({
      status: 'authorized',
      card: { brand: 'visa', last4: '4954' },
    });
  });

  it('refuses unknown tokens and unknown charges', async () => {
    const adapter = adapters[provider];
    await expectCode(adapter.authorize(authorizeRequest({ token: 'tok_nonsense' })), 'parameter_invalid');
    await expectCode(adapter.get('ch_missing'), 'resource_missing');
    await expectCode(adapter.void({ idempotencyKey: 'void-missing', chargeId: 'ch_missing' }), 'resource_missing');
  });

  it('answers a repeated key with the first answer and never charges twice', async () => {
    const adapter = adapters[provider];
    const request = authorizeRequest();
    const first = await adapter.authorize(request);
    const second = await adapter.authorize(request);
    expect(second).toEqual(first);

    const capture = { idempotencyKey: `${request.paymentId}:capture`, chargeId: first.chargeId, amount: 1500n };
    await expect(adapter.capture(capture)).resolves.toMatchObject({ amountCaptured: 1500n });
    await expect(adapter.capture(capture)).resolves.toMatchObject({ amountCaptured: 1500n });
    const refund = { idempotencyKey: `${request.paymentId}:refund:1`, chargeId: first.chargeId, amount: 100n };
    const refunded = await adapter.refund(refund);
    await expect(adapter.refund(refund)).resolves.toEqual(refunded);

    expect((await stats())[provider]).toMatchObject({ charges: 1, captures: 1, refunds: 1, replays: 3 });
    const charges = await admin<{ data: { id: string; amount_refunded: number }[] }>(
      'GET',
      `/admin/charges?payment_id=${request.paymentId}`,
    );
    expect(charges.data).toEqual([expect.objectContaining({ id: first.chargeId, amount_refunded: 100 })]);
  });

  it('refuses a key reused for another request', async () => {
    const adapter = adapters[provider];
    const request = authorizeRequest();
    await adapter.authorize(request);
    await expectCode(adapter.authorize({ ...request, amount: 1501n }), 'parameter_invalid');
    expect((await stats())[provider].charges).toBe(1);
  });

  it('recovers from tok_processingError when retried with the same key', async () => {
    const adapter = adapters[provider];
    const request = authorizeRequest({ token: 'tok_processingError' });
    await expectCode(adapter.authorize(request), 'provider_unavailable');
    await expectCode(adapter.authorize(request), 'provider_unavailable');
    const charge = await adapter.authorize(request);
    expect(charge).toMatchObject({ status: 'authorized', card: { brand: 'visa', last4: '0119' } });
    await expect(adapter.authorize(request)).resolves.toEqual(charge);
    expect((await stats())[provider]).toMatchObject({ charges: 1, transient_errors: 2, requests: 4, replays: 1 });
  });

  it('gives up on tok_timeout after the client timeout, and the simulator records nothing', async () => {
    const adapter = adapterFor(provider, 200);
    const request = authorizeRequest({ token: 'tok_timeout' });
    const startedAt = Date.now();
    const error = await expectCode(adapter.authorize(request), 'provider_unavailable');
    expect(error.message).toBe(`${provider} did not answer within 200 ms.`);
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect((await stats())[provider]).toMatchObject({ charges: 0, timeouts: 1 });
    await expect(admin('GET', `/admin/charges?payment_id=${request.paymentId}`)).resolves.toEqual({
      object: 'list',
      data: [],
    });
  });

  it('answers a retry that arrives while the first request with its key still runs as unavailable', async () => {
    const request = authorizeRequest({ token: 'tok_timeout' });
    const slow = adapterFor(provider, 1_000);
    const first = failure(slow.authorize(request));
    await expect.poll(async () => (await stats())[provider].timeouts).toBe(1);
    const error = await expectCode(adapters[provider].authorize(request), 'provider_unavailable');
    expect(error.message).toMatch(new RegExp(`^${provider} answered 409`));
    await expect(first).resolves.toMatchObject({
      code: 'provider_unavailable',
      message: `${provider} did not answer within 1000 ms.`,
    });
    expect((await stats())[provider]).toMatchObject({ charges: 0, timeouts: 1 });
  });

  it('is unavailable during an injected outage or error rate, and back after', async () => {
    const adapter = adapters[provider];
    await admin('POST', '/admin/faults', { provider, outage_seconds: 60 });
    await expectCode(adapter.authorize(authorizeRequest()), 'provider_unavailable');
    await admin('POST', '/admin/faults', { provider, error_rate: 1 });
    await expectCode(adapter.authorize(authorizeRequest()), 'provider_unavailable');
    await admin('DELETE', `/admin/faults?provider=${provider}`);
    await expect(adapter.authorize(authorizeRequest())).resolves.toMatchObject({ status: 'authorized' });
    expect((await stats())[provider]).toMatchObject({ charges: 1, injected_faults: 2, requests: 3 });
  });
});

describe.each(providers)('%s lookups after a lost answer', (provider) => {
  /** The next request of `operation` times out; `processed`: the provider acts all the same. */
  const timeOut = (operation: string, processed: boolean, count = 1) =>
    admin('POST', '/admin/faults/timeouts', { provider, operation, processed, count });

  it('finds the charge an authorization made when its answer was lost, and a resend replays it', async () => {
    const adapter = adapterFor(provider, 300);
    const request = authorizeRequest();
    await timeOut('authorize', true);
    const lost = await expectCode(adapter.authorize(request), 'provider_unavailable');
    expect(lost).toMatchObject({ outcomeUnknown: true, message: `${provider} did not answer within 300 ms.` });
    expect((await stats())[provider]).toMatchObject({ charges: 1, timeouts: 1 });

    const found = await adapter.findCharge({ idempotencyKey: request.idempotencyKey, paymentId: request.paymentId });
    expect(found).toEqual({
      found: 'charge',
      charge: expect.objectContaining({ provider, status: 'authorized', amount: 1500n }),
    });
    // The same key answers from the provider's store: still one charge.
    const resent = await adapter.authorize(request);
    expect(found.found === 'charge' && resent.chargeId).toBe(found.found === 'charge' && found.charge.chargeId);
    expect((await stats())[provider]).toMatchObject({ charges: 1, replays: 1 });
  });

  it('finds nothing when the request was lost before the provider saw it', async () => {
    const adapter = adapterFor(provider, 300);
    const request = authorizeRequest();
    await timeOut('authorize', false);
    await expectCode(adapter.authorize(request), 'provider_unavailable');
    await expect(
      adapter.findCharge({ idempotencyKey: request.idempotencyKey, paymentId: request.paymentId }),
    ).resolves.toEqual({ found: 'nothing' });
    expect((await stats())[provider]).toMatchObject({ charges: 0, timeouts: 1 });
  });

  it('tells a declined authorization by its decline', async () => {
    const adapter = adapters[provider];
    for (const [token, code] of [
      ['tok_chargeDeclined', 'card_declined'],
      ['tok_insufficientFunds', 'insufficient_funds'],
    ] as const) {
      const request = authorizeRequest({ token });
      await expectCode(adapter.authorize(request), code);
      await expect(
        adapter.findCharge({ idempotencyKey: request.idempotencyKey, paymentId: request.paymentId }),
      ).resolves.toEqual({ found: 'declined', code });
    }
  });

  it('finds a refund whose answer was lost, by our refund id or its request key', async () => {
    const adapter = adapterFor(provider, 300);
    const request = authorizeRequest({ capture: true });
    const charge = await adapter.authorize(request);
    const refund = (refundId: string) => ({
      idempotencyKey: `${request.paymentId}:refund:${refundId}`,
      chargeId: charge.chargeId,
      amount: 400n,
      ids: { paymentId: request.paymentId, refundId },
    });
    await timeOut('refund', true);
    await expectCode(adapter.refund(refund('re_1')), 'provider_unavailable');
    const found = await adapter.findRefund({ ...refund('re_1'), refundId: 're_1' });
    expect(found).toEqual({ provider, refundId: expect.any(String), chargeId: charge.chargeId, amount: 400n });
    await expect(adapter.findRefund({ ...refund('re_2'), refundId: 're_2' })).resolves.toBeUndefined();
    await expect(adapter.refund(refund('re_1'))).resolves.toEqual(found);
    expect((await stats())[provider]).toMatchObject({ refunds: 1, replays: 1 });
  });

  it('times lookups out like any request when told to', async () => {
    const adapter = adapterFor(provider, 300);
    const request = authorizeRequest();
    await adapter.authorize(request);
    await timeOut('lookup', false, 2);
    for (let attempt = 0; attempt < 2; attempt++) {
      await expectCode(
        adapter.findCharge({ idempotencyKey: request.idempotencyKey, paymentId: request.paymentId }),
        'provider_unavailable',
      );
    }
    await expect(
      adapter.findCharge({ idempotencyKey: request.idempotencyKey, paymentId: request.paymentId }),
    ).resolves.toMatchObject({ found: 'charge' });
    expect((await admin<Record<ProviderName, { timeouts: unknown[] }>>('GET', '/admin/faults'))[provider]).toEqual(
      expect.objectContaining({ timeouts: [] }),
    );
  });

  it('aims timeouts at one payment: by its keys, its lookups and its charge; others pass', async () => {
    const adapter = adapterFor(provider, 300);
    const [mine, other] = [authorizeRequest(), authorizeRequest()];
    const aim = (operation: string) =>
      admin('POST', '/admin/faults/timeouts', { provider, operation, processed: false, payment_id: mine.paymentId });
    await aim('authorize');
    const others = await adapter.authorize(other);
    await expectCode(adapter.authorize(mine), 'provider_unavailable');
    const charge = await adapter.authorize(mine);
    await aim('lookup');
    const lookUp = (request: AuthorizeRequest) =>
      adapter.findCharge({ idempotencyKey: request.idempotencyKey, paymentId: request.paymentId });
    await expect(lookUp(other)).resolves.toMatchObject({ found: 'charge' });
    await expectCode(lookUp(mine), 'provider_unavailable');
    // A charge's own routes name no payment: the charge does.
    await aim('retrieve');
    await expect(adapter.get(others.chargeId)).resolves.toMatchObject({ status: 'authorized' });
    await expectCode(adapter.get(charge.chargeId), 'provider_unavailable');
    expect((await stats())[provider]).toMatchObject({ charges: 2, timeouts: 3 });
    expect((await admin<Record<ProviderName, { timeouts: unknown[] }>>('GET', '/admin/faults'))[provider]).toEqual(
      expect.objectContaining({ timeouts: [] }),
    );
  });

  it('loses a capture or void answer after acting, as the charge then shows', async () => {
    const adapter = adapterFor(provider, 300);
    const captured = await adapter.authorize(authorizeRequest());
    await timeOut('capture', true);
    await expectCode(
      adapter.capture({ idempotencyKey: 'capture-lost', chargeId: captured.chargeId, amount: 1500n }),
      'provider_unavailable',
    );
    await expect(adapter.get(captured.chargeId)).resolves.toMatchObject({ status: 'captured', amountCaptured: 1500n });
    const voided = await adapter.authorize(authorizeRequest());
    await timeOut('void', true);
    await expectCode(adapter.void({ idempotencyKey: 'void-lost', chargeId: voided.chargeId }), 'provider_unavailable');
    await expect(adapter.get(voided.chargeId)).resolves.toMatchObject({ status: 'voided' });
    expect((await stats())[provider]).toMatchObject({ captures: 1, voids: 1, timeouts: 2 });
  });
});

describe('lookups that cannot tell yet', () => {
  it('PayPal answers 409 for a request with that id still running', async () => {
    const request = authorizeRequest({ token: 'tok_timeout' });
    const slow = adapterFor('paypal', 1_000);
    const first = failure(slow.authorize(request));
    await expect.poll(async () => (await stats()).paypal.timeouts).toBe(1);
    const error = await expectCode(
      adapters.paypal.findCharge({ idempotencyKey: request.idempotencyKey, paymentId: request.paymentId }),
      'provider_unavailable',
    );
    expect(error).toMatchObject({ outcomeUnknown: true, message: expect.stringMatching(/^paypal answered 409/) });
    await first;
    // Once it gave up having recorded nothing, the key names nothing.
    await expect(
      adapters.paypal.findCharge({ idempotencyKey: request.idempotencyKey, paymentId: request.paymentId }),
    ).resolves.toEqual({ found: 'nothing' });
  });

  it('Stripe refuses a search query it cannot read', async () => {
    const response = await fetch(`${baseUrl}/stripe/v1/charges/search?query=${encodeURIComponent('amount>100')}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'parameter_invalid', param: 'query' },
    });
  });
});

describe('request validation', () => {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  it('answers in Stripe’s error shape, without coercing types', async () => {
    await expect(post('/stripe/v1/charges', { amount: '100', currency: 'usd', source: 'tok_visa' })).resolves.toEqual({
      status: 400,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'parameter_invalid',
          message: 'Invalid amount: must be integer.',
          param: 'amount',
        },
      },
    });
    await expect(post('/stripe/v1/charges', { amount: 100, currency: 'usd' })).resolves.toMatchObject({
      status: 400,
      body: { error: { code: 'parameter_missing', param: 'source' } },
    });
    await expect(post('/stripe/v1/charges/ch_x/void', { extra: true })).resolves.toMatchObject({
      status: 400,
      body: { error: { code: 'parameter_unknown', param: 'extra' } },
    });
  });

  it('answers in PayPal’s error shape', async () => {
    await expect(
      post('/paypal/v2/payments/authorizations', {
        amount: { currency_code: 'USD', value: '1.00' },
        payment_source: { token: { id: 'tok_visa' } },
        extra: 1,
      }),
    ).resolves.toMatchObject({
      status: 400,
      body: { name: 'INVALID_REQUEST', details: [{ field: '/extra', issue: 'UNKNOWN_FIELD' }] },
    });
    await expect(
      post('/paypal/v2/payments/authorizations', { amount: { currency_code: 'USD', value: 1 } }),
    ).resolves.toMatchObject({ status: 400, body: { name: 'INVALID_REQUEST' } });
  });
});

describe('PayPal amounts on the wire', () => {
  it.each([
    ['USD', 1050n, '10.50'],
    ['JPY', 1050n, '1050'],
    ['KWD', 1050n, '1.050'],
  ])('sends %s %s as "%s"', async (currency, amount, value) => {
    const charge = await adapters.paypal.authorize(authorizeRequest({ currency, amount }));
    expect(charge).toMatchObject({ amount, currency });
    const raw = (await (await fetch(`${baseUrl}/paypal/v2/payments/authorizations/${charge.chargeId}`)).json()) as {
      amount: unknown;
    };
    expect(raw.amount).toEqual({ currency_code: currency, value });
  });

  it('refuses more decimals than the currency has', async () => {
    const response = await fetch(`${baseUrl}/paypal/v2/payments/authorizations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        amount: { currency_code: 'JPY', value: '10.5' },
        payment_source: { token: { id: 'tok_visa' } },
      }),
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({
      name: 'UNPROCESSABLE_ENTITY',
      details: [{ issue: 'DECIMAL_PRECISION' }],
    });
  });
});

describe('provider router against the simulator', () => {
  function router(volumeThreshold = 3) {
    const created = createProviderRouter({
      providers: adapters,
      routing: { USD: ['stripe', 'paypal'] },
      defaultRoute: ['paypal'],
      breaker: { errorThresholdPercentage: 50, resetTimeoutMs: 60_000, volumeThreshold, rollingCountTimeoutMs: 10_000 },
    });
    routers.push(created);
    return created;
  }

  it('falls back to the other provider during an outage, and not when the provider is named', async () => {
    const routes = router();
    await admin('POST', '/admin/faults', { provider: 'stripe', outage_seconds: 60 });
    const request = authorizeRequest();
    const routed = await routes.authorize(request);
    expect(routed.charge).toMatchObject({ provider: 'paypal', status: 'authorized', amount: 1500n });
    expect(routed.failedAttempts).toEqual([
      // A 503 turned the request away: nothing can be left at stripe to release.
      { provider: 'stripe', message: expect.stringMatching(/^stripe answered 503/), outcomeUnknown: false },
    ]);
    // The PayPal charge was made under the provider-specific key.
    await expect(
      adapters.paypal.authorize({ ...request, idempotencyKey: `${request.idempotencyKey}:paypal` }),
    ).resolves.toEqual(routed.charge);

    await expectCode(routes.authorize({ ...authorizeRequest(), provider: 'stripe' }), 'provider_unavailable');
    const after = await stats();
    expect(after.paypal).toMatchObject({ charges: 1, replays: 1 });
    expect(after.stripe).toMatchObject({ charges: 0, injected_faults: 2 });

    // Capture goes to the provider holding the charge.
    await expect(
      routes
        .forCharge(routed.charge.provider)
        .capture({ idempotencyKey: `${request.paymentId}:capture`, chargeId: routed.charge.chargeId, amount: 1500n }),
    ).resolves.toMatchObject({ provider: 'paypal', status: 'captured', amountCaptured: 1500n });
  });

  it('does not open the circuit on declines', async () => {
    const routes = router(2);
    for (let attempt = 0; attempt < 6; attempt++) {
      await expectCode(routes.authorize(authorizeRequest({ token: 'tok_chargeDeclined' })), 'card_declined');
    }
    expect(routes.breakerState('stripe')).toBe('closed');
    await expect(routes.authorize(authorizeRequest())).resolves.toMatchObject({ charge: { provider: 'stripe' } });
    const after = await stats();
    expect(after.stripe).toMatchObject({ declines: 6, charges: 1 });
    expect(after.paypal.requests).toBe(0);
  });

  it('opens the circuit after repeated outages and stops calling the provider', async () => {
    const routes = router(3);
    await admin('POST', '/admin/faults', { provider: 'stripe', outage_seconds: 60 });
    for (let attempt = 0; attempt < 3; attempt++) {
      await expectCode(routes.authorize({ ...authorizeRequest(), provider: 'stripe' }), 'provider_unavailable');
    }
    expect(routes.breakerState('stripe')).toBe('open');
    const routed = await routes.authorize(authorizeRequest());
    expect(routed.charge.provider).toBe('paypal');
    expect(routed.failedAttempts).toEqual([
      { provider: 'stripe', message: 'stripe circuit is open; not calling it.', outcomeUnknown: false },
    ]);
    await expectCode(routes.forCharge('stripe').get('ch_any'), 'provider_unavailable');
    expect((await stats()).stripe.requests).toBe(3);
  });
});

describe('webhooks', () => {
  // Only this test's events: a delivery from an earlier test may still land after the reset.
  function paymentIdOf(delivery: Delivery): unknown {
    const object = delivery.event.data?.object as { metadata?: { payment_id?: string } } | undefined;
    const resource = delivery.event.resource as
      { custom_id?: string; disputed_transactions?: { custom?: string }[] } | undefined;
    return object?.metadata?.payment_id ?? resource?.custom_id ?? resource?.disputed_transactions?.[0]?.custom;
  }
  const deliveriesOf = (provider: ProviderName, ...paymentIds: string[]) =>
    receiver.deliveries.filter(
      (delivery) => delivery.provider === provider && paymentIds.includes(paymentIdOf(delivery) as string),
    );

  function expectStripeSigned(delivery: Delivery): void {
    const header = String(delivery.headers['stripe-signature']);
    const [, timestamp, signature] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) ?? [];
    expect(signature, header).toBeDefined();
    const expected = createHmac('sha256', secrets.stripe).update(`${timestamp}.${delivery.rawBody}`).digest('hex');
    expect(signature).toBe(expected);
    expect(
      verifyStripeSignature({
        header,
        rawBody: delivery.rawBody,
        secret: secrets.stripe,
        nowSeconds: Math.floor(Date.now() / 1000),
        toleranceSeconds: 300,
      }),
    ).toBe(true);
  }

  function expectPayPalSigned(delivery: Delivery): void {
    const transmissionId = String(delivery.headers['paypal-transmission-id']);
    const transmissionTime = String(delivery.headers['paypal-transmission-time']);
    const signature = String(delivery.headers['paypal-transmission-sig']);
    const digest = createHash('sha256').update(delivery.rawBody).digest('hex');
    const expected = createHmac('sha256', secrets.paypal)
      .update(`${transmissionId}|${transmissionTime}|${digest}`)
      .digest('base64');
    expect(signature).toBe(expected);
    expect(
      verifyPayPalSignature({
        transmissionId,
        transmissionTime,
        rawBody: delivery.rawBody,
        signature,
        secret: secrets.paypal,
        nowMs: Date.now(),
        toleranceMs: 300_000,
      }),
    ).toBe(true);
  }

  it('Stripe: signed events for success, capture, refund, dispute, void and decline', async () => {
    const request = authorizeRequest({ amount: 1000n });
    const { chargeId } = await adapters.stripe.authorize(request);
    await adapters.stripe.capture({ idempotencyKey: `${request.paymentId}:capture`, chargeId, amount: 1000n });
    await adapters.stripe.refund({ idempotencyKey: `${request.paymentId}:refund`, chargeId, amount: 400n });
    await admin('POST', '/admin/disputes', { charge_id: chargeId, amount: 600 });
    const other = authorizeRequest();
    const voided = await adapters.stripe.authorize(other);
    await adapters.stripe.void({ idempotencyKey: `${other.paymentId}:void`, chargeId: voided.chargeId });
    const declined = authorizeRequest({ token: 'tok_chargeDeclined' });
    await expectCode(adapters.stripe.authorize(declined), 'card_declined');

    const paymentIds = [request.paymentId, other.paymentId, declined.paymentId];
    await expect.poll(() => deliveriesOf('stripe', ...paymentIds).length).toBe(7);
    const deliveries = deliveriesOf('stripe', ...paymentIds);
    for (const delivery of deliveries) expectStripeSigned(delivery);
    const forCharge = (id: string) =>
      deliveries
        .filter((delivery) => delivery.event.data?.object.id === id || delivery.event.data?.object.charge === id)
        .map(eventType)
        .sort();
    expect(forCharge(chargeId)).toEqual([
      'charge.captured',
      'charge.dispute.created',
      'charge.refunded',
      'charge.succeeded',
    ]);
    expect(forCharge(voided.chargeId)).toEqual(['charge.refunded', 'charge.succeeded']);
    const failed = deliveries.find((delivery) => eventType(delivery) === 'charge.failed');
    expect(failed?.event.data?.object).toMatchObject({
      status: 'failed',
      metadata: { payment_id: declined.paymentId },
      outcome: { reason: 'card_declined' },
    });
    const refunded = deliveries.find(
      (delivery) => eventType(delivery) === 'charge.refunded' && delivery.event.data?.object.id === chargeId,
    );
    expect(refunded?.event).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      data: {
        object: {
          amount: 1000,
          amount_captured: 1000,
          amount_refunded: 400,
          metadata: { payment_id: request.paymentId },
        },
      },
    });
    const dispute = deliveries.find((delivery) => eventType(delivery) === 'charge.dispute.created');
    expect(dispute?.event.data?.object).toMatchObject({
      object: 'dispute',
      amount: 600,
      charge: chargeId,
      currency: 'usd',
    });
  });

  it('PayPal: signed events for authorization, capture, refund, dispute and void', async () => {
    const request = authorizeRequest({ amount: 1050n, currency: 'EUR' });
    const { chargeId } = await adapters.paypal.authorize(request);
    await adapters.paypal.capture({ idempotencyKey: `${request.paymentId}:capture`, chargeId, amount: 1050n });
    await adapters.paypal.refund({ idempotencyKey: `${request.paymentId}:refund`, chargeId, amount: 50n });
    await admin('POST', '/admin/disputes', { charge_id: chargeId });
    const other = authorizeRequest();
    const voided = await adapters.paypal.authorize(other);
    await adapters.paypal.void({ idempotencyKey: `${other.paymentId}:void`, chargeId: voided.chargeId });

    await expect.poll(() => deliveriesOf('paypal', request.paymentId, other.paymentId).length).toBe(6);
    const deliveries = deliveriesOf('paypal', request.paymentId, other.paymentId);
    for (const delivery of deliveries) expectPayPalSigned(delivery);
    const byType = Object.fromEntries(deliveries.map((delivery) => [eventType(delivery), delivery.event]));
    expect(Object.keys(byType).sort()).toEqual([
      'CUSTOMER.DISPUTE.CREATED',
      'PAYMENT.AUTHORIZATION.CREATED',
      'PAYMENT.AUTHORIZATION.VOIDED',
      'PAYMENT.CAPTURE.COMPLETED',
      'PAYMENT.CAPTURE.REFUNDED',
    ]);
    expect(byType['PAYMENT.CAPTURE.COMPLETED']).toMatchObject({
      id: expect.stringMatching(/^WH-/),
      resource: { id: chargeId, amount: { currency_code: 'EUR', value: '10.50' }, custom_id: request.paymentId },
    });
    expect(byType['PAYMENT.CAPTURE.REFUNDED']).toMatchObject({
      resource: { amount: { currency_code: 'EUR', value: '0.50' }, custom_id: request.paymentId },
    });
    expect(byType['CUSTOMER.DISPUTE.CREATED']).toMatchObject({
      resource: {
        dispute_amount: { currency_code: 'EUR', value: '10.50' },
        disputed_transactions: [{ seller_transaction_id: chargeId }],
      },
    });
  });

  it('delivers every event twice when duplicate_rate is 1', async () => {
    await admin('POST', '/admin/webhooks', { duplicate_rate: 1 });
    const request = authorizeRequest();
    const { chargeId } = await adapters.stripe.authorize(request);
    await expect.poll(() => deliveriesOf('stripe', request.paymentId).length).toBe(2);
    const [first, second] = deliveriesOf('stripe', request.paymentId);
    expect(first?.event.id).toBe(second?.event.id);
    expect(first?.rawBody).toBe(second?.rawBody);
    expect(first?.event.data?.object.id).toBe(chargeId);
    expect((await stats()).stripe.webhooks).toMatchObject({ events: 1, duplicates: 1, delivered: 2, pending: 0 });
  });

  it('redelivers after a failed attempt, signed afresh', async () => {
    receiver.failNext.paypal = 2;
    const request = authorizeRequest();
    await adapters.paypal.authorize(request);
    await expect.poll(async () => (await stats()).paypal.webhooks.delivered).toBe(1);
    const deliveries = deliveriesOf('paypal', request.paymentId);
    expect(deliveries.map((delivery) => delivery.status)).toEqual([500, 500, 200]);
    expect(new Set(deliveries.map((delivery) => delivery.event.id)).size).toBe(1);
    for (const delivery of deliveries) expectPayPalSigned(delivery);
    expect((await stats()).paypal.webhooks).toMatchObject({ events: 1, delivered: 1, failed_attempts: 2, pending: 0 });
  });

  it('gives up after the attempt limit', async () => {
    receiver.failNext.stripe = 10;
    const request = authorizeRequest();
    await adapters.stripe.authorize(request);
    await expect.poll(async () => (await stats()).stripe.webhooks).toMatchObject({ failed_attempts: 4, pending: 0 });
    expect(deliveriesOf('stripe', request.paymentId).map((delivery) => delivery.status)).toEqual([500, 500, 500, 500]);
    expect((await stats()).stripe.webhooks).toMatchObject({ events: 1, delivered: 0, gave_up: 1 });
  });

  it('delivers newest first when out_of_order is set', async () => {
    await admin('POST', '/admin/webhooks', { provider: 'stripe', out_of_order: true });
    const request = authorizeRequest();
    const { chargeId } = await adapters.stripe.authorize(request);
    await adapters.stripe.capture({ idempotencyKey: `${request.paymentId}:capture`, chargeId, amount: 1500n });
    await expect.poll(() => deliveriesOf('stripe', request.paymentId).length).toBe(2);
    expect(deliveriesOf('stripe', request.paymentId).map(eventType)).toEqual(['charge.captured', 'charge.succeeded']);
  });

  it('sends nothing once the URL is removed', async () => {
    await admin('POST', '/admin/webhooks', { provider: 'stripe', url: null });
    const silent = authorizeRequest();
    await adapters.stripe.authorize(silent);
    const heard = authorizeRequest();
    await adapters.paypal.authorize(heard);
    await expect.poll(() => deliveriesOf('paypal', heard.paymentId).length).toBe(1);
    expect(deliveriesOf('stripe', silent.paymentId)).toEqual([]);
    expect((await stats()).stripe.webhooks).toMatchObject({ events: 1, delivered: 0, pending: 0 });
  });
});

describe('settlement reports', () => {
  it('list the day’s captures and refunds with totals per currency', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const usd = authorizeRequest({ amount: 1000n, capture: true });
    const stripeCharge = await adapters.stripe.authorize(usd);
    const refund = await adapters.stripe.refund({
      idempotencyKey: `${usd.paymentId}:refund`,
      chargeId: stripeCharge.chargeId,
      amount: 300n,
    });
    await adapters.stripe.authorize(authorizeRequest({ amount: 500n, currency: 'EUR' }));

    const stripeReport = await admin<Record<string, unknown>>('GET', `/stripe/v1/settlements?date=${today}`);
    expect(stripeReport).toEqual({
      object: 'settlement_report',
      date: today,
      totals: [{ currency: 'usd', captured: 1000, refunded: 300, net: 700, count: 2 }],
      data: [
        expect.objectContaining({
          id: stripeCharge.chargeId,
          type: 'charge',
          amount: 1000,
          currency: 'usd',
          metadata: { payment_id: usd.paymentId },
        }),
        expect.objectContaining({ id: refund.refundId, type: 'refund', amount: -300, charge: stripeCharge.chargeId }),
      ],
      has_more: false,
    });

    const jpy = authorizeRequest({ amount: 1050n, currency: 'JPY', capture: true });
    const paypalCharge = await adapters.paypal.authorize(jpy);
    await adapters.paypal.refund({
      idempotencyKey: `${jpy.paymentId}:refund`,
      chargeId: paypalCharge.chargeId,
      amount: 50n,
    });
    const kwd = authorizeRequest({ amount: 1000n, currency: 'KWD' });
    const kwdCharge = await adapters.paypal.authorize(kwd);
    await adapters.paypal.capture({
      idempotencyKey: `${kwd.paymentId}:capture`,
      chargeId: kwdCharge.chargeId,
      amount: 750n,
    });

    const paypalReport = await admin<{ totals: unknown[]; transaction_details: unknown[] }>(
      'GET',
      `/paypal/v1/reporting/settlements?date=${today}`,
    );
    expect(paypalReport.totals).toEqual([
      {
        currency_code: 'JPY',
        captured: { currency_code: 'JPY', value: '1050' },
        refunded: { currency_code: 'JPY', value: '50' },
        net: { currency_code: 'JPY', value: '1000' },
        count: 2,
      },
      {
        currency_code: 'KWD',
        captured: { currency_code: 'KWD', value: '0.750' },
        refunded: { currency_code: 'KWD', value: '0.000' },
        net: { currency_code: 'KWD', value: '0.750' },
        count: 1,
      },
    ]);
    expect(paypalReport.transaction_details).toHaveLength(3);
    expect(paypalReport).toMatchObject({ page: 1, total_items: 3, total_pages: 1 });

    const otherDay = await admin<{ totals: unknown[] }>('GET', '/stripe/v1/settlements?date=2001-01-01');
    expect(otherDay.totals).toEqual([]);
  });

  it('are read by our settlement clients one currency at a time, page by page', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const requests = [1_000n, 2_000n, 3_000n].map((amount) =>
      authorizeRequest({ amount, currency: 'CHF', capture: true }),
    );
    const charges: ProviderCharge[] = [];
    for (const request of requests) charges.push(await adapters.stripe.authorize(request));
    const refund = await adapters.stripe.refund({
      idempotencyKey: `${requests[0]?.paymentId}:refund`,
      chargeId: charges[0]?.chargeId ?? '',
      amount: 400n,
    });
    await adapters.stripe.authorize(authorizeRequest({ amount: 9_000n, currency: 'SEK', capture: true }));

    const stripeReports = createStripeSettlementReports({
      baseUrl: `${baseUrl}/stripe`,
      timeoutMs: clientTimeoutMs,
      pageSize: 2,
    });
    const pages = [];
    let cursor: string | null = null;
    do {
      const page = await stripeReports.page({ date: today, currency: 'CHF', cursor });
      pages.push(page);
      cursor = page.next;
    } while (cursor !== null);
    expect(pages.map((page) => page.lines.length)).toEqual([2, 2]);
    expect(pages[0]?.totals).toEqual({ captured: 6_000n, refunded: 400n });
    // Lines of the same second come in the provider's order (by id), not ours: compared as a set,
    // each line once across the pages.
    const byLineId = (a: { lineId?: string | undefined }, b: { lineId?: string | undefined }) =>
      (a.lineId ?? '') < (b.lineId ?? '') ? -1 : 1;
    expect(pages.flatMap((page) => page.lines).sort(byLineId)).toEqual(
      [
        ...requests.map((request, index) => ({
          kind: 'capture',
          lineId: charges[index]?.chargeId,
          chargeId: charges[index]?.chargeId,
          paymentId: request.paymentId,
          amount: request.amount,
          currency: 'CHF',
          occurredAt: expect.any(Date),
        })),
        {
          kind: 'refund',
          lineId: refund.refundId,
          chargeId: charges[0]?.chargeId,
          paymentId: requests[0]?.paymentId,
          amount: 400n,
          currency: 'CHF',
          occurredAt: expect.any(Date),
        },
      ].sort(byLineId),
    );
    expect(await stripeReports.currencies(today)).toEqual(['CHF', 'SEK']);

    const paypalRequest = authorizeRequest({ amount: 1_050n, currency: 'JPY', capture: true });
    const paypalCharge = await adapters.paypal.authorize(paypalRequest);
    await adapters.paypal.refund({
      idempotencyKey: `${paypalRequest.paymentId}:refund`,
      chargeId: paypalCharge.chargeId,
      amount: 50n,
    });
    const paypalReports = createPayPalSettlementReports({
      baseUrl: `${baseUrl}/paypal`,
      timeoutMs: clientTimeoutMs,
      pageSize: 1,
    });
    const first = await paypalReports.page({ date: today, currency: 'JPY' });
    expect(first.next).toBe('2');
    const jpyLines = [first];
    for (let next = first.next; next !== null;) {
      const page = await paypalReports.page({ date: today, currency: 'JPY', cursor: next });
      jpyLines.push(page);
      next = page.next;
    }
    expect(jpyLines.flatMap((page) => page.lines)).toContainEqual({
      kind: 'capture',
      lineId: paypalCharge.chargeId,
      chargeId: paypalCharge.chargeId,
      paymentId: paypalRequest.paymentId,
      amount: 1_050n,
      currency: 'JPY',
      occurredAt: expect.any(Date),
    });
    // Refunds are negative in PayPal's report; ours are positive, like every line.
    expect(jpyLines.flatMap((page) => page.lines).filter((line) => line.kind === 'refund')).toEqual([
      expect.objectContaining({ amount: 50n, currency: 'JPY' }),
    ]);

    const unknownCursor = await fetch(`${baseUrl}/stripe/v1/settlements?date=${today}&starting_after=nothing`);
    expect(unknownCursor.status).toBe(404);
  });
});
