import type { IncomingHttpHeaders } from 'node:http';
import Fastify from 'fastify';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import { freePort } from '../../src/temporal/dev-server.ts';
import { verifyWebhookSignature } from '../../src/webhooks/signature.ts';
import { relayOnce } from '../../src/events/relay.ts';
import type { Config } from '../../src/config.ts';

// Outbound webhooks end to end: the outbox relay, delivery workflows with durable retries, the
// events and webhook endpoints APIs, against a real local receiver, Temporal and PostgreSQL.

type Merchant = { id: string; apiKey: string };

interface Received {
  name: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  body: string;
  event: { id: string; object: string; type: string; created_at: string; data: { object: Record<string, unknown> } };
}

/** A webhook receiver on a free port: /hooks/:name answers what `respond(name)` says for the nth call. */
async function startReceiver() {
  const server = Fastify({ logger: false });
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  const received: Received[] = [];
  /** A status, or a status with headers (e.g. Retry-After). */
  type Answer = number | { status: number; headers: Record<string, string> };
  const behaviours = new Map<string, (call: number) => Answer>();
  server.post<{ Params: { name: string } }>('/hooks/:name', async (request, reply) => {
    const { name } = request.params;
    const body = request.body as string;
    received.push({ name, headers: request.headers, body, event: JSON.parse(body) as Received['event'] });
    const call = received.filter((item) => item.name === name).length;
    const answer = behaviours.get(name)?.(call) ?? 200;
    const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
    return reply.headers(headers).status(status).send({ ok: true });
  });
  const port = await freePort();
  await server.listen({ host: '127.0.0.1', port });
  return {
    url: (name: string) => `http://127.0.0.1:${port}/hooks/${name}`,
    respond: (name: string, behaviour: (call: number) => Answer) => behaviours.set(name, behaviour),
    received: (name: string) => received.filter((item) => item.name === name),
    close: () => server.close(),
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

const fastDelivery: Partial<Config> = {
  rateLimitPerSecond: 10_000,
  // Card velocity is counted over the whole test database, which other suites fill too.
  riskMaxPaymentsPerWindow: 1_000_000,
  relayIntervalMs: 50,
  deliveryInitialRetryMs: 100,
  deliveryMaxRetryMs: 400,
  // Room for 4 attempts: the dev server fires sub-second timers on whole seconds.
  deliveryMaxAgeMs: 4_000,
  deliveryTimeoutMs: 1_000,
  settlementDelayMs: 300,
};
const poll = { timeout: 15_000, interval: 50 };

let names = 0;
const uniqueName = (label: string) => `${label}-${++names}`;

function apiFor(stack: Stack, merchant: Merchant) {
  const auth = bearer(merchant.apiKey);
  let keys = 0;
  const get = (url: string) => stack.app.inject({ method: 'GET', url, headers: auth });
  const post = (url: string, payload?: object, headers: Record<string, string> = {}) =>
    stack.app.inject({ method: 'POST', url, headers: { ...auth, ...headers }, ...(payload ? { payload } : {}) });
  const del = (url: string) => stack.app.inject({ method: 'DELETE', url, headers: auth });

  const createEndpoint = async (url: string, events: string[]) => {
    const response = await post('/v1/webhook_endpoints', { url, events });
    expect(response.statusCode).toBe(201);
    return response.json<{ id: string; secret: string; url: string; events: string[] }>();
  };
  const deliveries = async (endpointId: string, query = '') => {
    const response = await get(`/v1/webhook_endpoints/${endpointId}/deliveries?limit=100${query}`);
    expect(response.statusCode).toBe(200);
    return response.json<{ data: Delivery[]; has_more: boolean }>().data;
  };
  const events = async (query = '') => {
    const response = await get(`/v1/events?limit=100${query}`);
    expect(response.statusCode).toBe(200);
    return response.json<{ data: Received['event'][]; has_more: boolean }>().data;
  };
  const openAccount = async () =>
    (await post('/v1/accounts', { type: 'customer', currency: 'USD' })).json<{ id: string }>().id;
  const deposit = async (accountId: string, amount: number) => {
    const response = await post(
      `/v1/accounts/${accountId}/deposits`,
      { amount, reference: 'funding' },
      { 'idempotency-key': `dep-${++keys}` },
    );
    expect(response.statusCode).toBe(201);
    return response.json<{ id: string }>().id;
  };
  const transfer = async (from: string, to: string, amount: number) => {
    const response = await post(
      '/v1/transfers',
      { from_account_id: from, to_account_id: to, amount, currency: 'USD' },
      { 'idempotency-key': `tr-${++keys}` },
    );
    expect(response.statusCode).toBe(201);
    return response.json<{ id: string; status: string }>();
  };
  return { get, post, del, createEndpoint, deliveries, events, openAccount, deposit, transfer };
}

interface Delivery {
  id: string;
  object: string;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  status: string;
  generation: number;
  attempt_count: number;
  attempts: {
    attempt: number;
    status_code: number | null;
    error: string | null;
    duration_ms: number;
    created_at: string;
  }[];
}

/** Stripe's library, for its webhook signature check only (no API calls are made). */
const stripe = new Stripe('sk_test_signature_checks_only');
/** A well-formed secret that is not the endpoint's. */
const otherSecret = 'whsec_0123456789abcdefghijklmnopqrstuv';

describe('outbound webhooks', () => {
  let stack: Stack;
  let receiver: Receiver;
  beforeAll(async () => {
    [stack, receiver] = await Promise.all([startStack('outbound-webhooks', fastDelivery), startReceiver()]);
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('retries a failing endpoint with backoff and records exactly 4 attempts (500, 500, 500, 200)', async () => {
    const api = apiFor(stack, await stack.merchant());
    const name = uniqueName('flaky');
    receiver.respond(name, (call) => (call <= 3 ? 500 : 200));
    const endpoint = await api.createEndpoint(receiver.url(name), ['deposit.succeeded']);
    const depositId = await api.deposit(await api.openAccount(), 1_050);

    await expect.poll(async () => (await api.deliveries(endpoint.id))[0]?.status, poll).toBe('succeeded');
    const [delivery, ...others] = await api.deliveries(endpoint.id);
    expect(others).toEqual([]);
    const [event] = await api.events('&type=deposit.succeeded');
    expect(delivery).toMatchObject({
      object: 'webhook_delivery',
      event_id: event?.id,
      event_type: 'deposit.succeeded',
      endpoint_id: endpoint.id,
      status: 'succeeded',
      generation: 0,
      attempt_count: 4,
    });
    expect(delivery?.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, 500, null],
      [2, 500, null],
      [3, 500, null],
      [4, 200, null],
    ]);
    // Durable timers between attempts: 100, 200 then 400 ms (capped) at least.
    const startedAt = delivery!.attempts.map((a) => Date.parse(a.created_at));
    expect(startedAt[1]! - startedAt[0]!).toBeGreaterThanOrEqual(100);
    expect(startedAt[2]! - startedAt[1]!).toBeGreaterThanOrEqual(200);
    expect(startedAt[3]! - startedAt[2]!).toBeGreaterThanOrEqual(400);

    // Every request: the same event JSON as the API shows, signed with the endpoint's secret.
    const requests = receiver.received(name);
    expect(requests).toHaveLength(4);
    const fromApi = (await api.get(`/v1/events/${event?.id}`)).json();
    expect(fromApi.data.object).toMatchObject({ id: depositId, object: 'deposit', amount: 1_050, status: 'succeeded' });
    for (const request of requests) {
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.event).toEqual(fromApi);
      expect(
        verifyWebhookSignature({ header: request.headers.signature, body: request.body, secret: endpoint.secret }),
      ).toMatchObject({ valid: true });
      expect(
        verifyWebhookSignature({ header: request.headers.signature, body: request.body, secret: 'whsec_wrong' }),
      ).toEqual({ valid: false, reason: 'no_matching_signature' });
    }
    // The same requests, checked by libraries we did not write: the Standard Webhooks reference
    // library on the webhook-* headers, Stripe's on our Signature header (the same t=…,v1=… scheme).
    const messageIds = new Set<string>();
    for (const request of requests) {
      const standard = {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      };
      expect(new Webhook(endpoint.secret).verify(request.body, standard)).toEqual(fromApi);
      expect(() => new Webhook(otherSecret).verify(request.body, standard)).toThrow(WebhookVerificationError);
      expect(() => new Webhook(endpoint.secret).verify(`${request.body} `, standard)).toThrow(WebhookVerificationError);
      messageIds.add(standard['webhook-id']);
      const verified = stripe.webhooks.constructEvent(request.body, String(request.headers.signature), endpoint.secret);
      expect(verified).toEqual(fromApi);
      expect(() =>
        stripe.webhooks.constructEvent(request.body, String(request.headers.signature), otherSecret),
      ).toThrow();
    }
    // One message, four attempts: the same webhook-id (the event's), so receivers dedupe it.
    expect([...messageIds]).toEqual([event?.id]);
  });

  it('fails a delivery that never succeeds, lists it as failed, and redelivers it once fixed', async () => {
    const api = apiFor(stack, await stack.merchant());
    const name = uniqueName('down');
    let down = true;
    receiver.respond(name, () => (down ? 503 : 204));
    const endpoint = await api.createEndpoint(receiver.url(name), ['*']);
    await api.deposit(await api.openAccount(), 700);

    await expect.poll(async () => (await api.deliveries(endpoint.id, '&status=failed')).length, poll).toBe(1);
    const [failed] = await api.deliveries(endpoint.id, '&status=failed');
    expect(failed).toMatchObject({ event_type: 'deposit.succeeded', status: 'failed', generation: 0 });
    expect(failed!.attempt_count).toBe(failed!.attempts.length);
    expect(failed!.attempt_count).toBeGreaterThanOrEqual(4);
    expect(new Set(failed!.attempts.map((a) => a.status_code))).toEqual(new Set([503]));
    // It retried for the whole max age (4 s): it gives up once the next wait (≤ 400 ms) would
    // end past it, so the last attempt started more than 3.6 s after the first (timers fire late,
    // never early, so the last one may start a little after the 4 s).
    const times = failed!.attempts.map((a) => Date.parse(a.created_at));
    expect(times.at(-1)! - times[0]!).toBeGreaterThan(3_500);
    expect(times.at(-1)! - times[0]!).toBeLessThan(4_000 + 1_500);
    expect(await api.deliveries(endpoint.id, '&status=pending')).toEqual([]);
    expect(receiver.received(name)).toHaveLength(failed!.attempt_count);
    // One failed delivery is not enough to disable an endpoint (5 days by default).
    expect((await api.get(`/v1/webhook_endpoints/${endpoint.id}`)).json()).toMatchObject({ status: 'enabled' });

    down = false;
    const redelivered = await api.post(`/v1/events/${failed!.event_id}/redeliver`);
    expect(redelivered.statusCode).toBe(200);
    const body = redelivered.json<{ object: string; data: Delivery[] }>();
    expect(body).toMatchObject({
      object: 'list',
      data: [
        {
          event_id: failed!.event_id,
          endpoint_id: endpoint.id,
          status: 'pending',
          generation: 1,
          attempt_count: 0,
          attempts: [],
        },
      ],
    });
    expect(body.data).toHaveLength(1);
    await expect.poll(async () => (await api.deliveries(endpoint.id, '&status=succeeded')).length, poll).toBe(1);
    const all = await api.deliveries(endpoint.id);
    expect(all.map((d) => [d.id, d.generation, d.status, d.attempts.map((a) => a.status_code)])).toEqual([
      [body.data[0]!.id, 1, 'succeeded', [204]],
      [failed!.id, 0, 'failed', failed!.attempts.map(() => 503)],
    ]);
    const last = receiver.received(name).at(-1)!;
    expect(last.event.id).toBe(failed!.event_id);
    expect(
      verifyWebhookSignature({ header: last.headers.signature, body: last.body, secret: endpoint.secret }),
    ).toEqual(expect.objectContaining({ valid: true }));

    // Its last delivery succeeded: redelivered all the same (a receiver may have lost it), as a
    // third generation, received once more.
    const receivedBefore = receiver.received(name).length;
    const again = (await api.post(`/v1/events/${failed!.event_id}/redeliver`)).json<{
      data: Delivery[];
      skipped: [];
    }>();
    expect([again.data.map((d) => [d.endpoint_id, d.generation]), again.skipped]).toEqual([[[endpoint.id, 2]], []]);
    await expect.poll(() => receiver.received(name).length, poll).toBe(receivedBefore + 1);
    expect(receiver.received(name).at(-1)!.event.id).toBe(failed!.event_id);
    // While that delivery is in flight or just done, a redelivery skips nothing it should not:
    // an in-flight one is named, not doubled.
    const inFlight = await stack.prisma.webhookDelivery.findFirstOrThrow({
      where: { eventId: failed!.event_id, generation: 2 },
    });
    await stack.prisma.webhookDelivery.update({ where: { id: inFlight.id }, data: { status: 'pending' } });
    expect((await api.post(`/v1/events/${failed!.event_id}/redeliver`)).json()).toEqual({
      object: 'list',
      data: [],
      skipped: [{ endpoint_id: endpoint.id, reason: 'delivery_in_progress' }],
    });
    await stack.prisma.webhookDelivery.update({ where: { id: inFlight.id }, data: { status: 'succeeded' } });
  });

  it('sends each endpoint only the types it subscribed to; "*" gets all; a deleted endpoint nothing', async () => {
    const merchant = await stack.merchant();
    const api = apiFor(stack, merchant);
    const [succeededOnly, everything, deleted, transfersOnly] = ['only', 'all', 'deleted', 'transfers'].map(
      uniqueName,
    ) as [string, string, string, string];
    const a = await api.createEndpoint(receiver.url(succeededOnly), ['payment.succeeded']);
    const b = await api.createEndpoint(receiver.url(everything), ['*']);
    const c = await api.createEndpoint(receiver.url(deleted), ['*']);
    const d = await api.createEndpoint(receiver.url(transfersOnly), ['transfer.failed']);
    expect((await api.del(`/v1/webhook_endpoints/${c.id}`)).json()).toEqual({
      id: c.id,
      object: 'webhook_endpoint',
      deleted: true,
    });

    await api.deposit(await api.openAccount(), 100);
    const payments = paymentsClient(stack, merchant);
    const payment = (await payments.create({ amount: 2_000, currency: 'USD', source: card('tok_mastercard') })).json();
    expect(payment.status).toBe('succeeded');
    await expect.poll(async () => (await payments.get(payment.id)).settled, poll).toBe(true);

    const expectedTypes = ['deposit.succeeded', 'payment.created', 'payment.succeeded', 'payment.settled'];
    expect((await api.events()).map((event) => event.type).sort()).toEqual([...expectedTypes].sort());
    await expect
      .poll(async () => (await api.deliveries(b.id, '&status=succeeded')).map((x) => x.event_type).sort(), poll)
      .toEqual([...expectedTypes].sort());
    expect(
      receiver
        .received(everything)
        .map((r) => r.event.type)
        .sort(),
    ).toEqual([...expectedTypes].sort());
    expect((await api.deliveries(a.id)).map((x) => [x.event_type, x.status])).toEqual([
      ['payment.succeeded', 'succeeded'],
    ]);
    expect(receiver.received(succeededOnly).map((r) => r.event.data.object.id)).toEqual([payment.id]);
    expect(await api.deliveries(d.id)).toEqual([]);
    expect(receiver.received(transfersOnly)).toEqual([]);
    expect(receiver.received(deleted)).toEqual([]);
    expect(await stack.prisma.webhookDelivery.count({ where: { endpointId: c.id } })).toBe(0);
    expect((await api.get(`/v1/webhook_endpoints/${c.id}`)).statusCode).toBe(404);
    expect((await api.get(`/v1/webhook_endpoints/${c.id}/deliveries`)).statusCode).toBe(404);
  });

  it('announces a payment lifecycle as events in order, and deposits and transfers too', async () => {
    const merchant = await stack.merchant();
    const api = apiFor(stack, merchant);
    const name = uniqueName('lifecycle');
    const endpoint = await api.createEndpoint(receiver.url(name), ['*']);
    const payments = paymentsClient(stack, merchant);

    const created = await payments.create({
      amount: 10_000,
      currency: 'USD',
      capture_method: 'manual',
      source: card('tok_visa'),
    });
    expect(created.json()).toMatchObject({ status: 'requires_capture' });
    const paymentId = created.json<{ id: string }>().id;
    expect((await payments.act(paymentId, 'capture', { amount: 10_000 })).json()).toMatchObject({
      status: 'succeeded',
    });
    await expect.poll(async () => (await payments.get(paymentId)).settled, poll).toBe(true);
    const partial = await payments.act(paymentId, 'refunds', { amount: 2_500 });
    expect(partial.statusCode).toBe(201);
    const full = await payments.act(paymentId, 'refunds', { amount: 7_500 });
    expect(full.statusCode).toBe(201);

    const from = await api.openAccount();
    const to = await api.openAccount();
    const depositId = await api.deposit(from, 500);
    const moved = await api.transfer(from, to, 200);
    const refused = await api.transfer(from, to, 10_000);
    expect([moved.status, refused.status]).toEqual(['succeeded', 'failed']);

    const events = await api.events();
    const ofPayment = events
      .filter((event) => event.data.object.id === paymentId || event.data.object.payment_id === paymentId)
      .reverse();
    expect(ofPayment.map((event) => event.type)).toEqual([
      'payment.created',
      'payment.requires_capture',
      'payment.succeeded',
      'payment.settled',
      'refund.succeeded',
      'refund.succeeded',
    ]);
    const [partialRefund, fullRefund] = ofPayment.slice(4).map((event) => event.data.object);
    // A refund event carries the refund, not its payment.
    expect(partialRefund).toMatchObject({
      object: 'refund',
      payment_id: paymentId,
      amount: 2_500,
      status: 'succeeded',
    });
    expect(fullRefund).toMatchObject({ object: 'refund', payment_id: paymentId, amount: 7_500, status: 'succeeded' });
    expect(events.slice(0, 3).map((event) => [event.type, event.data.object.id])).toEqual([
      ['transfer.failed', refused.id],
      ['transfer.succeeded', moved.id],
      ['deposit.succeeded', depositId],
    ]);
    expect(events.find((event) => event.type === 'transfer.failed')?.data.object).toMatchObject({
      object: 'transfer',
      status: 'failed',
      failure_code: 'insufficient_funds',
      amount: 10_000,
    });

    // The "*" endpoint receives every one of them, once, signed.
    await expect
      .poll(
        () =>
          receiver
            .received(name)
            .map((r) => r.event.id)
            .sort(),
        poll,
      )
      .toEqual(events.map((event) => event.id).sort());
    for (const request of receiver.received(name)) {
      expect(
        verifyWebhookSignature({ header: request.headers.signature, body: request.body, secret: endpoint.secret }),
      ).toMatchObject({ valid: true });
    }
  });

  it('pages events newest first, filters them by type, and validates the query', async () => {
    const api = apiFor(stack, await stack.merchant());
    const from = await api.openAccount();
    const to = await api.openAccount();
    const deposits = [await api.deposit(from, 100), await api.deposit(from, 200), await api.deposit(from, 300)];
    const moved = await api.transfer(from, to, 50);
    const refused = await api.transfer(from, to, 5_000);

    const ids: string[] = [];
    const pages: [string[], boolean][] = [];
    let cursor = '';
    for (;;) {
      const page = (await api.get(`/v1/events?limit=2${cursor}`)).json<{
        object: string;
        data: Received['event'][];
        has_more: boolean;
      }>();
      expect(page.object).toBe('list');
      pages.push([page.data.map((event) => event.type), page.has_more]);
      ids.push(...page.data.map((event) => event.id));
      if (!page.has_more) break;
      cursor = `&starting_after=${page.data.at(-1)!.id}`;
    }
    expect(pages).toEqual([
      [['transfer.failed', 'transfer.succeeded'], true],
      [['deposit.succeeded', 'deposit.succeeded'], true],
      [['deposit.succeeded'], false],
    ]);
    expect(new Set(ids).size).toBe(5);

    const onlyDeposits = await api.events('&type=deposit.succeeded');
    expect(onlyDeposits.map((event) => event.data.object.id)).toEqual([...deposits].reverse());
    expect((await api.events('&type=transfer.*')).map((event) => event.data.object.id)).toEqual([refused.id, moved.id]);
    expect(await api.events('&type=payment.succeeded')).toEqual([]);

    const single = await api.get(`/v1/events/${ids[0]}`);
    expect(single.statusCode).toBe(200);
    expect(single.json()).toEqual((await api.events()).find((event) => event.id === ids[0]));
    expect(single.json()).toMatchObject({ id: ids[0], object: 'event', type: 'transfer.failed' });

    for (const [query, status, code] of [
      ['?limit=0', 400, 'parameter_invalid'],
      ['?limit=101', 400, 'parameter_invalid'],
      ['?colour=red', 400, 'parameter_unknown'],
      ['?starting_after=evt_missing', 404, 'resource_missing'],
      // A type no event can have is a typo, not an empty list.
      ['?type=payment.succeded', 400, 'parameter_invalid'],
      ['?type=invoice.*', 400, 'parameter_invalid'],
      ['?type=payment.internal_step', 400, 'parameter_invalid'],
    ] as const) {
      const response = await api.get(`/v1/events${query}`);
      expect([query, response.statusCode, response.json().error.code]).toEqual([query, status, code]);
    }
    expect((await api.get('/v1/events/evt_missing')).statusCode).toBe(404);
  });

  it('disables an endpoint that answers 410 Gone, at once and with an event, and retries nothing', async () => {
    const api = apiFor(stack, await stack.merchant());
    const name = uniqueName('gone');
    receiver.respond(name, () => 410);
    const endpoint = await api.createEndpoint(receiver.url(name), ['deposit.succeeded']);
    await api.deposit(await api.openAccount(), 100);
    await expect.poll(async () => (await api.deliveries(endpoint.id))[0]?.status, poll).toBe('failed');
    const [delivery] = await api.deliveries(endpoint.id);
    expect(delivery?.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([[1, 410, null]]);
    expect((await api.get(`/v1/webhook_endpoints/${endpoint.id}`)).json()).toMatchObject({
      status: 'disabled',
      disabled_reason: 'endpoint_gone',
    });
    const [disabled, ...more] = await api.events('&type=webhook_endpoint.disabled');
    expect(more).toEqual([]);
    expect(disabled?.data.object).toMatchObject({
      id: endpoint.id,
      status: 'disabled',
      disabled_reason: 'endpoint_gone',
    });
    expect(receiver.received(name)).toHaveLength(1);
  });

  it("waits as long as a 503's Retry-After asks before the next attempt, longer than its backoff", async () => {
    const api = apiFor(stack, await stack.merchant());
    const name = uniqueName('busy');
    receiver.respond(name, (call) => (call === 1 ? { status: 503, headers: { 'retry-after': '2' } } : 200));
    const endpoint = await api.createEndpoint(receiver.url(name), ['deposit.succeeded']);
    await api.deposit(await api.openAccount(), 100);
    await expect.poll(async () => (await api.deliveries(endpoint.id))[0]?.status, poll).toBe('succeeded');
    const [delivery] = await api.deliveries(endpoint.id);
    expect(delivery?.attempts.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 503],
      [2, 200],
    ]);
    // The backoff alone would have waited 100 ms.
    const [first, second] = delivery!.attempts.map((a) => Date.parse(a.created_at));
    expect(second! - first!).toBeGreaterThanOrEqual(2_000);
  });

  it('sends a signed test event to the one endpoint that asks, whatever it subscribed to; none to a disabled one', async () => {
    const api = apiFor(stack, await stack.merchant());
    const [name, bystanderName] = [uniqueName('tested'), uniqueName('bystander')];
    const endpoint = await api.createEndpoint(receiver.url(name), ['payout.paid']);
    const bystander = await api.createEndpoint(receiver.url(bystanderName), ['*']);
    const sent = await api.post(`/v1/webhook_endpoints/${endpoint.id}/test`);
    expect(sent.statusCode).toBe(201);
    const delivery = sent.json<Delivery>();
    expect(delivery).toMatchObject({
      object: 'webhook_delivery',
      event_type: 'webhook_endpoint.test',
      endpoint_id: endpoint.id,
      status: 'pending',
      generation: 0,
    });
    await expect.poll(async () => (await api.deliveries(endpoint.id))[0]?.status, poll).toBe('succeeded');
    const [request, ...more] = receiver.received(name);
    expect(more).toEqual([]);
    expect(request!.event).toMatchObject({
      id: delivery.event_id,
      type: 'webhook_endpoint.test',
      data: { object: { id: endpoint.id, object: 'webhook_endpoint', url: receiver.url(name), status: 'enabled' } },
    });
    expect(request!.event.data.object).not.toHaveProperty('secret');
    expect(
      verifyWebhookSignature({ header: request!.headers.signature, body: request!.body, secret: endpoint.secret }),
    ).toMatchObject({ valid: true });
    expect(new Webhook(endpoint.secret).verify(request!.body, request!.headers as Record<string, string>)).toEqual(
      request!.event,
    );
    // The bystander subscribed to everything and got nothing: the relay never dispatches a test event.
    await relayOnce({ prisma: stack.prisma, temporal: stack.temporal, config: stack.config });
    expect(receiver.received(bystanderName)).toEqual([]);
    expect(await api.deliveries(bystander.id)).toEqual([]);

    await api.post(`/v1/webhook_endpoints/${endpoint.id}`, { disabled: true });
    const refused = await api.post(`/v1/webhook_endpoints/${endpoint.id}/test`);
    expect([refused.statusCode, refused.json().error.code]).toEqual([409, 'webhook_endpoint_unexpected_state']);
    expect((await api.post('/v1/webhook_endpoints/we_missing/test')).statusCode).toBe(404);
  });

  it('stops retrying once the endpoint is disabled (error endpoint_disabled)', async () => {
    const api = apiFor(stack, await stack.merchant());
    const name = uniqueName('switched-off');
    receiver.respond(name, () => 500);
    const endpoint = await api.createEndpoint(receiver.url(name), ['deposit.succeeded']);
    await api.deposit(await api.openAccount(), 100);
    await expect.poll(async () => (await api.deliveries(endpoint.id))[0]?.attempt_count, poll).toBe(1);
    await api.post(`/v1/webhook_endpoints/${endpoint.id}`, { disabled: true });

    await expect.poll(async () => (await api.deliveries(endpoint.id))[0]?.status, poll).toBe('failed');
    const [delivery] = await api.deliveries(endpoint.id);
    expect(delivery!.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([
      [1, 500, null],
      [2, null, 'endpoint_disabled'],
    ]);
    expect(receiver.received(name)).toHaveLength(1);
  });

  it('delivers once even when several relays handle the same events at once', async () => {
    const merchant = await stack.merchant();
    const api = apiFor(stack, merchant);
    const name = uniqueName('racing');
    const endpoint = await api.createEndpoint(receiver.url(name), ['*']);
    const account = await api.openAccount();
    await Promise.all([api.deposit(account, 1), api.deposit(account, 2), api.deposit(account, 3)]);
    // Three more relays race the suite's own one over the same rows.
    const deps = { prisma: stack.prisma, temporal: stack.temporal, config: stack.config };
    await Promise.all([relayOnce(deps), relayOnce(deps), relayOnce(deps)]);

    await expect.poll(async () => (await api.deliveries(endpoint.id, '&status=succeeded')).length, poll).toBe(3);
    expect(await stack.prisma.webhookDelivery.count({ where: { endpointId: endpoint.id } })).toBe(3);
    expect(await stack.prisma.event.count({ where: { merchantId: merchant.id, dispatchedAt: null } })).toBe(0);
    const amounts = receiver.received(name).map((r) => r.event.data.object.amount);
    expect(amounts.sort()).toEqual([1, 2, 3]);
  });

  it("keeps every merchant's events, endpoints and deliveries to itself", async () => {
    const mine = apiFor(stack, await stack.merchant());
    const theirs = apiFor(stack, await stack.merchant());
    const name = uniqueName('isolated');
    const endpoint = await mine.createEndpoint(receiver.url(name), ['*']);
    await mine.deposit(await mine.openAccount(), 100);
    await expect.poll(async () => (await mine.deliveries(endpoint.id, '&status=succeeded')).length, poll).toBe(1);
    const [event] = await mine.events();

    for (const response of [
      await theirs.get(`/v1/events/${event!.id}`),
      await theirs.post(`/v1/events/${event!.id}/redeliver`),
      await theirs.get(`/v1/webhook_endpoints/${endpoint.id}`),
      await theirs.get(`/v1/webhook_endpoints/${endpoint.id}/deliveries`),
      await theirs.post(`/v1/webhook_endpoints/${endpoint.id}`, { disabled: true }),
      await theirs.del(`/v1/webhook_endpoints/${endpoint.id}`),
      await theirs.get(`/v1/events?starting_after=${event!.id}`),
    ]) {
      expect([response.statusCode, response.json().error.code]).toEqual([404, 'resource_missing']);
    }
    expect(await theirs.events()).toEqual([]);
    expect((await theirs.get('/v1/webhook_endpoints')).json()).toEqual({ object: 'list', data: [], has_more: false });
    expect((await mine.get(`/v1/webhook_endpoints/${endpoint.id}`)).json()).toMatchObject({ status: 'enabled' });
    expect((await stack.app.inject({ method: 'GET', url: '/v1/events' })).statusCode).toBe(401);
  });

  it('creates, shows, lists, updates and deletes endpoints; the secret only at creation', async () => {
    const api = apiFor(stack, await stack.merchant());
    const created = await api.post('/v1/webhook_endpoints', {
      url: 'https://example.com/hooks',
      events: ['payment.succeeded', 'refund.succeeded'],
    });
    expect(created.statusCode).toBe(201);
    const endpoint = created.json();
    expect(endpoint).toEqual({
      id: expect.stringMatching(/^we_/),
      object: 'webhook_endpoint',
      url: 'https://example.com/hooks',
      events: ['payment.succeeded', 'refund.succeeded'],
      status: 'enabled',
      disabled_reason: null,
      secret: expect.stringMatching(/^whsec_[0-9A-Za-z]{32}$/),
      created_at: expect.any(String),
    });
    const { secret: _secret, ...shown } = endpoint;
    expect((await api.get(`/v1/webhook_endpoints/${endpoint.id}`)).json()).toEqual(shown);

    const second = await api.createEndpoint('http://127.0.0.1:1/other', ['*']);
    const page1 = (await api.get('/v1/webhook_endpoints?limit=1')).json();
    expect(page1).toEqual({ object: 'list', data: [expect.objectContaining({ id: second.id })], has_more: true });
    expect(page1.data[0]).not.toHaveProperty('secret');
    const page2 = (await api.get(`/v1/webhook_endpoints?limit=1&starting_after=${second.id}`)).json();
    expect(page2).toEqual({ object: 'list', data: [shown], has_more: false });

    const updated = await api.post(`/v1/webhook_endpoints/${endpoint.id}`, { events: ['*'], disabled: true });
    expect(updated.json()).toEqual({
      ...shown,
      events: ['*'],
      status: 'disabled',
      disabled_reason: 'disabled_by_merchant',
    });
    const enabled = await api.post(`/v1/webhook_endpoints/${endpoint.id}`, { disabled: false });
    expect(enabled.json()).toEqual({ ...shown, events: ['*'] });

    // The same Idempotency-Key answers the first endpoint (and its secret) instead of making a twin.
    const headers = { 'idempotency-key': 'endpoint-once' };
    const once = await api.post('/v1/webhook_endpoints', { url: 'https://example.com/once', events: ['*'] }, headers);
    const twice = await api.post('/v1/webhook_endpoints', { url: 'https://example.com/once', events: ['*'] }, headers);
    expect(twice.headers['idempotent-replayed']).toBe('true');
    expect(twice.json()).toEqual(once.json());

    expect((await api.del(`/v1/webhook_endpoints/${endpoint.id}`)).json()).toEqual({
      id: endpoint.id,
      object: 'webhook_endpoint',
      deleted: true,
    });
    expect((await api.del(`/v1/webhook_endpoints/${endpoint.id}`)).statusCode).toBe(404);
    expect((await api.get('/v1/webhook_endpoints')).json().data.map((e: { id: string }) => e.id)).toEqual([
      once.json().id,
      second.id,
    ]);

    for (const [payload, code, param] of [
      [{ url: 'ftp://example.com', events: ['*'] }, 'parameter_invalid', 'url'],
      [{ url: 'not a url', events: ['*'] }, 'parameter_invalid', 'url'],
      [{ url: `https://example.com/${'a'.repeat(2_048)}`, events: ['*'] }, 'parameter_invalid', 'url'],
      [{ url: 'https://example.com', events: [] }, 'parameter_invalid', 'events'],
      [
        { url: 'https://example.com', events: Array.from({ length: 51 }, (_, i) => `a.b${i}`) },
        'parameter_invalid',
        'events',
      ],
      [{ url: 'https://example.com', events: ['*', 'payment.succeeded'] }, 'parameter_invalid', 'events'],
      [{ url: 'https://example.com', events: ['Payment Succeeded'] }, 'parameter_invalid', 'events.0'],
      [{ url: 'https://example.com' }, 'parameter_missing', 'events'],
      [{ url: 'https://example.com', events: ['*'], secret: 'x' }, 'parameter_unknown', 'secret'],
    ] as const) {
      const response = await api.post('/v1/webhook_endpoints', payload);
      expect([response.statusCode, response.json().error]).toEqual([400, expect.objectContaining({ code, param })]);
    }
  });
});

describe('endpoints that fail for too long', () => {
  let stack: Stack;
  let receiver: Receiver;
  beforeAll(async () => {
    [stack, receiver] = await Promise.all([
      startStack('outbound-webhooks-disable', {
        ...fastDelivery,
        deliveryMaxAgeMs: 1_000,
        endpointDisableAfterMs: 500,
      }),
      startReceiver(),
    ]);
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('are disabled, announced with webhook_endpoint.disabled, skipped, and can be re-enabled', async () => {
    const merchant = await stack.merchant();
    const api = apiFor(stack, merchant);
    const [broken, watcher] = [uniqueName('broken'), uniqueName('watcher')] as const;
    let brokenStatus = 500;
    receiver.respond(broken, () => brokenStatus);
    const failing = await api.createEndpoint(receiver.url(broken), ['deposit.succeeded']);
    const watching = await api.createEndpoint(receiver.url(watcher), ['webhook_endpoint.disabled']);
    const account = await api.openAccount();
    await api.deposit(account, 100);

    await expect
      .poll(async () => (await api.get(`/v1/webhook_endpoints/${failing.id}`)).json().status, poll)
      .toBe('disabled');
    expect((await api.get(`/v1/webhook_endpoints/${failing.id}`)).json()).toMatchObject({
      status: 'disabled',
      disabled_reason: 'delivery_failures',
    });
    expect((await api.deliveries(failing.id)).map((d) => d.status)).toEqual(['failed']);
    const [disabled, ...more] = await api.events('&type=webhook_endpoint.disabled');
    expect(more).toEqual([]);
    expect(disabled!.data.object).toMatchObject({
      id: failing.id,
      object: 'webhook_endpoint',
      url: failing.url,
      status: 'disabled',
      disabled_reason: 'delivery_failures',
    });
    expect(disabled!.data.object).not.toHaveProperty('secret');
    // Exactly the endpoint as GET shows it, nothing more.
    expect(disabled!.data.object).toEqual((await api.get(`/v1/webhook_endpoints/${failing.id}`)).json());
    // Another endpoint subscribed to it hears about it.
    await expect
      .poll(async () => (await api.deliveries(watching.id)).map((d) => [d.event_id, d.status]), poll)
      .toEqual([[disabled!.id, 'succeeded']]);
    expect(receiver.received(watcher).map((r) => r.event)).toEqual([disabled]);

    // A disabled endpoint gets nothing, and redelivery skips it.
    const attemptsBefore = receiver.received(broken).length;
    await api.deposit(account, 200);
    await expect
      .poll(async () => stack.prisma.event.count({ where: { merchantId: merchant.id, dispatchedAt: null } }), poll)
      .toBe(0);
    const eventId = (await api.deliveries(failing.id))[0]!.event_id;
    expect((await api.post(`/v1/events/${eventId}/redeliver`)).json()).toEqual({
      object: 'list',
      data: [],
      skipped: [{ endpoint_id: failing.id, reason: 'endpoint_disabled' }],
    });
    expect(receiver.received(broken)).toHaveLength(attemptsBefore);
    expect(await api.deliveries(failing.id)).toHaveLength(1);

    // Re-enabled (its failure streak forgotten), it receives new events and redeliveries again.
    brokenStatus = 200;
    expect((await api.post(`/v1/webhook_endpoints/${failing.id}`, { disabled: false })).json()).toMatchObject({
      status: 'enabled',
      disabled_reason: null,
    });
    const redelivered = (await api.post(`/v1/events/${eventId}/redeliver`)).json<{ data: Delivery[] }>().data;
    expect(redelivered.map((d) => [d.endpoint_id, d.generation])).toEqual([[failing.id, 1]]);
    await api.deposit(account, 300);
    await expect
      .poll(async () => (await api.deliveries(failing.id, '&status=succeeded')).map((d) => d.generation).sort(), poll)
      .toEqual([0, 1]);
  });
});
