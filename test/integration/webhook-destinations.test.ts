import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { buildApp } from '../../src/api/build.ts';
import { freePort } from '../../src/temporal/dev-server.ts';
import { maxEndpointsPerMerchant } from '../../src/webhooks/endpoints.ts';
import { sendWebhook } from '../../src/webhooks/sender.ts';
import type { Config } from '../../src/config.ts';

// Where webhooks may go, with WEBHOOK_ALLOW_PRIVATE_DESTINATIONS off (production): loopback,
// private and other non-public destinations are refused at creation and, for an endpoint that
// reaches one anyway (created while they were allowed, or a name that resolves there), at each
// send, recorded as an attempt and never sent. Also the endpoint cap and the event catalog.
// Only loopback receivers; public URLs are created but never delivered to (no events for them).

const publicOnly: Partial<Config> = {
  webhookAllowPrivateDestinations: false,
  rateLimitPerSecond: 10_000,
  relayIntervalMs: 50,
  deliveryInitialRetryMs: 100,
  deliveryMaxRetryMs: 200,
  // Room for two or three attempts, then the delivery is failed.
  deliveryMaxAgeMs: 1_500,
  deliveryTimeoutMs: 1_000,
};
const poll = { timeout: 15_000, interval: 50 };

/** A loopback receiver that counts every request it gets. */
async function startReceiver() {
  const server = Fastify({ logger: false });
  const received: string[] = [];
  server.post('/*', async (request) => {
    received.push(request.url);
    return { ok: true };
  });
  const port = await freePort();
  await server.listen({ host: '127.0.0.1', port });
  return { port, received, close: () => server.close() };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

function apiFor(app: FastifyInstance, apiKey: string) {
  const auth = bearer(apiKey);
  const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, headers: { ...auth, ...headers }, payload });
  const get = (url: string) => app.inject({ method: 'GET', url, headers: auth });
  const del = (url: string) => app.inject({ method: 'DELETE', url, headers: auth });
  return { post, get, del };
}

describe('webhook destinations', () => {
  let stack: Stack;
  let receiver: Receiver;
  beforeAll(async () => {
    [stack, receiver] = await Promise.all([startStack('webhook-destinations', publicOnly), startReceiver()]);
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('refuses non-public URLs at creation and update: 400 parameter_invalid on url', async () => {
    const api = apiFor(stack.app, (await stack.merchant()).apiKey);
    for (const [url, host, reason] of [
      ['http://localhost:9/x', 'localhost', 'a name reserved for local networks'],
      ['http://LocalHost.:9/x', 'localhost.', 'a name reserved for local networks'],
      ['http://hooks.localhost/', 'hooks.localhost', 'a name reserved for local networks'],
      ['http://[::1]:9/', '[::1]', 'a loopback address'],
      ['http://0.0.0.0:9/', '0.0.0.0', 'an unspecified address'],
      ['http://2130706433:9/', '127.0.0.1', 'a loopback address'],
      ['http://0x7f000001:9/', '127.0.0.1', 'a loopback address'],
      ['http://0177.0.0.1:9/', '127.0.0.1', 'a loopback address'],
      ['http://[::ffff:127.0.0.1]:9/', '[::ffff:7f00:1]', 'a loopback address'],
      ['http://10.0.0.8/', '10.0.0.8', 'a private address'],
      ['http://192.168.0.1/', '192.168.0.1', 'a private address'],
      ['http://[fd00::1]/', '[fd00::1]', 'a private address'],
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'a link-local address'],
      ['http://[fe80::1]/', '[fe80::1]', 'a link-local address'],
      ['http://100.64.1.1/', '100.64.1.1', 'a carrier-grade NAT address'],
      ['http://224.0.0.251/', '224.0.0.251', 'a multicast address'],
      ['http://255.255.255.255/', '255.255.255.255', 'a broadcast address'],
      ['http://intranet/', 'intranet', 'a name without a domain'],
    ]) {
      const response = await api.post('/v1/webhook_endpoints', { url, events: ['*'] });
      expect([response.statusCode, response.json()], url).toEqual([
        400,
        {
          error: {
            type: 'invalid_request_error',
            code: 'parameter_invalid',
            message: `The url must point to a public internet address; ${host} is ${reason}.`,
            param: 'url',
          },
        },
      ]);
    }
    expect((await api.get('/v1/webhook_endpoints')).json().data).toEqual([]);

    const created = await api.post('/v1/webhook_endpoints', { url: 'https://hooks.example.com/in', events: ['*'] });
    expect(created.statusCode).toBe(201);
    const { id } = created.json<{ id: string }>();
    const moved = await api.post(`/v1/webhook_endpoints/${id}`, { url: 'http://[::1]:9/' });
    expect([moved.statusCode, moved.json().error]).toEqual([
      400,
      expect.objectContaining({ code: 'parameter_invalid', param: 'url' }),
    ]);
    expect((await api.get(`/v1/webhook_endpoints/${id}`)).json().url).toBe('https://hooks.example.com/in');
  });

  it('refuses event types that are not in the catalog, naming them', async () => {
    const api = apiFor(stack.app, (await stack.merchant()).apiKey);
    for (const [events, param, value] of [
      [['payment.succeded'], 'events.0', 'payment.succeded'],
      [['refund.succeeded', 'payment.succeded'], 'events.1', 'payment.succeded'],
      [['payment.*'], 'events.0', 'payment.*'],
    ] as const) {
      const response = await api.post('/v1/webhook_endpoints', { url: 'https://hooks.example.com/in', events });
      expect([response.statusCode, response.json().error]).toEqual([
        400,
        {
          type: 'invalid_request_error',
          code: 'parameter_invalid',
          message: `Invalid body parameter ${param}: "${value}" is not one of the allowed values (see the API docs).`,
          param,
        },
      ]);
    }
    const created = await api.post('/v1/webhook_endpoints', {
      url: 'https://hooks.example.com/in',
      events: ['payment.succeeded', 'webhook_endpoint.disabled'],
    });
    expect(created.statusCode).toBe(201);
    const updated = await api.post(`/v1/webhook_endpoints/${created.json().id}`, { events: ['transfer.succeded'] });
    expect([updated.statusCode, updated.json().error.param]).toEqual([400, 'events.0']);

    // The OpenAPI document lists the catalog.
    const docs = (await stack.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const body = docs.paths['/v1/webhook_endpoints'].post.requestBody.content['application/json'].schema;
    expect(body.properties.events.items.enum).toEqual(expect.arrayContaining(['*', 'payment.succeeded']));
  });

  it(`caps a merchant at ${maxEndpointsPerMerchant} endpoints, deleted ones not counted, even when created at once`, async () => {
    const merchant = await stack.merchant();
    const api = apiFor(stack.app, merchant.apiKey);
    const create = (n: number) =>
      api.post('/v1/webhook_endpoints', { url: `https://hooks.example.com/${n}`, events: ['*'] });
    const first = [];
    for (let n = 0; n < maxEndpointsPerMerchant - 1; n++) first.push(await create(n));
    expect(first.map((response) => response.statusCode)).toEqual(Array(maxEndpointsPerMerchant - 1).fill(201));

    // One place left, eight requests for it at once: exactly one gets it.
    const racing = await Promise.all(Array.from({ length: 8 }, (_, i) => create(100 + i)));
    expect(racing.map((response) => response.statusCode).sort()).toEqual([201, 400, 400, 400, 400, 400, 400, 400]);
    const refused = racing.find((response) => response.statusCode === 400);
    expect(refused?.json()).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'webhook_endpoint_limit_reached',
        message: `A merchant can have at most ${maxEndpointsPerMerchant} webhook endpoints; delete one before adding another.`,
      },
    });
    const listed = async () => (await api.get('/v1/webhook_endpoints?limit=100')).json<{ data: { id: string }[] }>();
    expect((await listed()).data).toHaveLength(maxEndpointsPerMerchant);
    expect(await stack.prisma.webhookEndpoint.count({ where: { merchantId: merchant.id } })).toBe(
      maxEndpointsPerMerchant,
    );

    // A disabled endpoint still counts; a deleted one frees its place.
    const [oldest] = first;
    await api.post(`/v1/webhook_endpoints/${oldest?.json().id}`, { disabled: true });
    expect((await create(200)).statusCode).toBe(400);
    expect((await api.del(`/v1/webhook_endpoints/${oldest?.json().id}`)).statusCode).toBe(200);
    expect((await create(201)).statusCode).toBe(201);
    expect((await create(202)).json().error.code).toBe('webhook_endpoint_limit_reached');
  });

  it('refuses a loopback destination at send time: recorded as attempts, nothing sent, then failed', async () => {
    const merchant = await stack.merchant();
    // Endpoints created while private destinations were allowed (an API configured so), then
    // delivered by this stack's worker, which allows public destinations only.
    const permissive = await buildApp(
      {
        prisma: stack.prisma,
        temporal: stack.temporal,
        config: { ...stack.config, webhookAllowPrivateDestinations: true },
      },
      { logger: false, bodyLimitBytes: stack.config.bodyLimitBytes, requestTimeoutMs: stack.config.requestTimeoutMs },
    );
    const endpoints: { id: string }[] = [];
    try {
      const api = apiFor(permissive, merchant.apiKey);
      // A name that resolves to 127.0.0.1 (checked after resolution), and the address itself.
      for (const host of ['localhost', '127.0.0.1']) {
        const response = await api.post('/v1/webhook_endpoints', {
          url: `http://${host}:${receiver.port}/hooks/${host}`,
          events: ['deposit.succeeded'],
        });
        expect(response.statusCode).toBe(201);
        endpoints.push(response.json());
      }
    } finally {
      await permissive.close();
    }

    const api = apiFor(stack.app, merchant.apiKey);
    const account = (await api.post('/v1/accounts', { type: 'customer', currency: 'USD' })).json<{ id: string }>().id;
    const deposit = await api.post(
      `/v1/accounts/${account}/deposits`,
      { amount: 500, reference: 'funding' },
      { 'idempotency-key': 'ssrf-deposit' },
    );
    expect(deposit.statusCode).toBe(201);

    for (const endpoint of endpoints) {
      const failed = async () =>
        (await api.get(`/v1/webhook_endpoints/${endpoint.id}/deliveries?status=failed`)).json<{
          data: { attempt_count: number; attempts: { status_code: number | null; error: string | null }[] }[];
        }>().data;
      await expect.poll(async () => (await failed()).length, poll).toBe(1);
      const [delivery] = await failed();
      // Retried like any failed attempt until the delivery's maximum age, each one refused.
      expect(delivery?.attempt_count).toBeGreaterThanOrEqual(2);
      expect(delivery?.attempts.map((attempt) => [attempt.status_code, attempt.error])).toEqual(
        Array(delivery?.attempt_count).fill([null, 'destination_not_allowed']),
      );
      const row = await stack.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
      expect(row.consecutiveFailures).toBe(delivery?.attempt_count);
    }
    expect(receiver.received).toEqual([]);
  });

  it('sends to the same loopback receiver only when the policy allows private destinations', async () => {
    const send = (url: string, allowPrivateDestinations: boolean) =>
      sendWebhook({
        url,
        body: '{}',
        secret: 'whsec_0123456789abcdefghijklmnopqrstuv',
        messageId: 'evt_destinations_test',
        timeoutMs: 2_000,
        timestampSeconds: Math.floor(Date.now() / 1000),
        policy: { allowPrivateDestinations },
      });
    for (const host of ['localhost', '127.0.0.1', '[::ffff:127.0.0.1]']) {
      const url = `http://${host}:${receiver.port}/direct`;
      expect(await send(url, false), url).toMatchObject({
        ok: false,
        statusCode: null,
        error: 'destination_not_allowed',
      });
    }
    expect(receiver.received).toEqual([]);
    // The control: the receiver is there, and the permissive policy reaches it.
    expect(await send(`http://localhost:${receiver.port}/direct`, true)).toMatchObject({ ok: true, statusCode: 200 });
    expect(receiver.received).toEqual(['/direct']);
  });
});
