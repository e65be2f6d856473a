import { idTimePart } from '../../src/ids.ts';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import Fastify from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { freePort } from '../../src/temporal/dev-server.ts';
import { verifyWebhookSignature } from '../../src/webhooks/signature.ts';
import { maxEndpointsPerMerchant } from '../../src/webhooks/endpoints.ts';
import type { Config } from '../../src/config.ts';

// Tenant isolation across every route family: merchant A makes one of everything (accounts,
// deposits, a transfer, card and wallet payments in every state an action applies to, webhook
// endpoints with delivered and failed events, idempotency keys); merchant B then can neither see
// it, act on it, use it as an input, nor notice it (idempotency keys, rate limit, velocity,
// endpoint cap, webhooks, ledger figures, ids). Answers are compared by status, code, ids and
// selected fields: the full shapes of payments, refunds and events are not this suite's subject.

type Merchant = { id: string; apiKey: string };
type Method = 'GET' | 'POST' | 'DELETE';

const settings: Partial<Config> = {
  rateLimitPerSecond: 10_000,
  riskMaxPaymentsPerWindow: 2,
  riskVelocityWindowMs: 60_000,
  riskReviewAboveMinor: { USD: 50_000n },
  riskBlockAboveMinor: { USD: 10_000_000n },
  relayIntervalMs: 50,
  deliveryInitialRetryMs: 100,
  deliveryMaxRetryMs: 400,
  // Room for 4 attempts: the dev server fires sub-second timers on whole seconds.
  deliveryMaxAgeMs: 4_000,
  deliveryTimeoutMs: 1_000,
};
const poll = { timeout: 20_000, interval: 50 };

interface Received {
  name: string;
  headers: IncomingHttpHeaders;
  body: string;
  event: { id: string; type: string; data: { object: { id?: string } } };
}

/** A loopback webhook receiver: /hooks/:name answers what `respond(name)` says (200 by default). */
async function startReceiver() {
  const server = Fastify({ logger: false });
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  const received: Received[] = [];
  const statuses = new Map<string, number>();
  server.post<{ Params: { name: string } }>('/hooks/:name', async (request, reply) => {
    const { name } = request.params;
    const body = request.body as string;
    received.push({ name, headers: request.headers, body, event: JSON.parse(body) as Received['event'] });
    return reply.status(statuses.get(name) ?? 200).send({ ok: true });
  });
  const port = await freePort();
  await server.listen({ host: '127.0.0.1', port });
  return {
    url: (name: string) => `http://127.0.0.1:${port}/hooks/${name}`,
    respond: (name: string, status: number) => statuses.set(name, status),
    received: (name: string) => received.filter((item) => item.name === name),
    close: () => server.close(),
  };
}

/** One merchant's view of the API. */
function clientFor(stack: Stack, merchant: Merchant) {
  const auth = bearer(merchant.apiKey);
  const call = (method: Method, url: string, payload?: object, headers: Record<string, string> = {}) =>
    stack.app.inject({
      method,
      url,
      headers: { ...auth, ...headers },
      ...(payload === undefined ? {} : { payload }),
    });
  const get = (url: string) => call('GET', url);
  const keyed = (key: string) => ({ 'idempotency-key': key });
  const expectStatus = async <T = Record<string, unknown>>(
    pending: Promise<LightMyRequestResponse>,
    status: number,
  ): Promise<T> => {
    const response = await pending;
    expect(response.statusCode, response.body).toBe(status);
    return response.json<T>();
  };
  const read = <T = Record<string, unknown>>(url: string) => expectStatus<T>(get(url), 200);
  const list = async (url: string) => (await read<{ data: { id: string }[] }>(url)).data.map((item) => item.id);

  const openAccount = async () =>
    (await expectStatus<{ id: string }>(call('POST', '/v1/accounts', { type: 'customer', currency: 'USD' }), 201)).id;
  const deposit = async (accountId: string, amount: number, key: string = randomUUID()) =>
    expectStatus<{ id: string; transaction_id: string }>(
      call('POST', `/v1/accounts/${accountId}/deposits`, { amount, reference: 'funding' }, keyed(key)),
      201,
    );
  const transfer = async (from: string, to: string, amount: number, key: string = randomUUID()) =>
    expectStatus<{ id: string; status: string; transaction_id: string }>(
      call('POST', '/v1/transfers', { from_account_id: from, to_account_id: to, amount, currency: 'USD' }, keyed(key)),
      201,
    );
  const pay = (payload: object, key: string = randomUUID()) => call('POST', '/v1/payments', payload, keyed(key));
  const payment = (id: string) => read<PaymentFields>(`/v1/payments/${id}`);
  const refund = (paymentId: string, payload: object, key: string = randomUUID()) =>
    expectStatus<{ id: string; status: string; amount: number }>(
      call('POST', `/v1/payments/${paymentId}/refunds`, payload, keyed(key)),
      201,
    );
  const createEndpoint = async (url: string, events: string[], headers: Record<string, string> = {}) =>
    expectStatus<{ id: string; secret: string }>(call('POST', '/v1/webhook_endpoints', { url, events }, headers), 201);
  const deliveries = async (endpointId: string, query = '') =>
    (
      await read<{ data: { id: string; event_id: string; status: string; generation: number }[] }>(
        `/v1/webhook_endpoints/${endpointId}/deliveries?limit=100${query}`,
      )
    ).data;
  const entries = async (accountId: string) =>
    (
      await read<{ data: { id: string; transaction_id: string; amount: number; balance_after: number }[] }>(
        `/v1/accounts/${accountId}/entries?limit=100`,
      )
    ).data;
  const events = async (query = '') => (await read<{ data: Received['event'][] }>(`/v1/events?limit=100${query}`)).data;
  return {
    merchant,
    call,
    get,
    keyed,
    expectStatus,
    read,
    list,
    openAccount,
    deposit,
    transfer,
    pay,
    payment,
    refund,
    createEndpoint,
    deliveries,
    entries,
    events,
  };
}

type Client = ReturnType<typeof clientFor>;

interface PaymentFields {
  id: string;
  status: string;
  amount: number;
  amount_capturable: number;
  amount_captured: number;
  amount_refunded: number;
  fee: number | null;
  net_amount: number | null;
  failure_code: string | null;
  description: string | null;
  metadata: Record<string, string> | null;
  refunds: { id: string; amount: number; status: string }[];
}

/** What may change when someone acts on a payment; compared before and after B's attempts. */
const paymentState = (payment: PaymentFields) => ({
  status: payment.status,
  amount_capturable: payment.amount_capturable,
  amount_captured: payment.amount_captured,
  amount_refunded: payment.amount_refunded,
  description: payment.description,
  metadata: payment.metadata,
  refunds: payment.refunds.map((refund) => [refund.id, refund.amount, refund.status]),
});

const card = { type: 'card', token: 'tok_visa' } as const;
const pendingAccountOf = (merchant: Merchant) => `acct_pending_${merchant.id}_usd`;
const platformFees = 'acct_sys_platform_fees_usd';

/** The exact answer for a resource the caller cannot see: the same whether it is another merchant's or none. */
function missing(noun: string, id: string) {
  return {
    error: {
      type: 'invalid_request_error',
      code: 'resource_missing',
      message: `No such ${noun}: '${id}'.`,
      param: 'id',
    },
  };
}

/** B's answer about A's id equals its answer about an id that never existed (the id aside). */
function expectIndistinguishable(
  label: string,
  real: LightMyRequestResponse,
  ghost: LightMyRequestResponse,
  ids: { real: string; ghost: string },
) {
  expect([label, real.statusCode]).toEqual([label, 404]);
  expect([label, ghost.statusCode]).toEqual([label, 404]);
  expect(real.json().error, label).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing' });
  expect(real.body.replaceAll(ids.real, ids.ghost), label).toBe(ghost.body);
}

/** An id of the same form as `id` that no one has: its random part replaced. */
function ghostOf(id: string): string {
  const cut = id.lastIndexOf('_') + 1;
  return `${id.slice(0, cut)}${'Z'.repeat(Math.max(8, id.length - cut))}`;
}

/** Longest common prefix of two ids after their type prefix. */
function sharedPrefix(a: string, b: string): number {
  const body = (id: string) => id.slice(id.indexOf('_') + 1);
  const [x, y] = [body(a), body(b)];
  let n = 0;
  while (n < x.length && x[n] === y[n]) n++;
  return n;
}

function withoutInstant<T extends { at: string }>(balance: T): Omit<T, 'at'> {
  const { at: _at, ...rest } = balance;
  return rest;
}

let stack: Stack;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let a: Client;
let b: Client;

/** Everything A made. */
const world = {
  endpoint: '',
  downEndpoint: '',
  wallet: '',
  savings: '',
  deposit: '',
  depositTransaction: '',
  transfer: '',
  auto: '',
  refunded: '',
  refund: '',
  manual: '',
  review: '',
  walletPayment: '',
  events: [] as string[],
  entries: [] as string[],
  /** A second API key of A's (its first is the one A calls with). */
  apiKey: '',
  apiKeySecret: '',
};
/** What B made before the probes. */
const mine = { endpoint: '', endpointSecret: '', wallet: '', payment: '', deposit: '' };
const startedAt = new Date().toISOString();

beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack('tenant-isolation', settings), startReceiver()]);
  a = clientFor(stack, await stack.merchant());
  b = clientFor(stack, await stack.merchant());

  // Both listen from the start, so every event of each has a delivery to its own endpoint.
  world.endpoint = (await a.createEndpoint(receiver.url('a'), ['*'])).id;
  receiver.respond('a-down', 503);
  world.downEndpoint = (await a.createEndpoint(receiver.url('a-down'), ['transfer.succeeded'])).id;
  const bEndpoint = await b.createEndpoint(receiver.url('b'), ['*']);
  [mine.endpoint, mine.endpointSecret] = [bEndpoint.id, bEndpoint.secret];

  world.wallet = await a.openAccount();
  world.savings = await a.openAccount();
  const deposit = await a.deposit(world.wallet, 50_000, 'shared-deposit');
  [world.deposit, world.depositTransaction] = [deposit.id, deposit.transaction_id];
  await a.deposit(world.savings, 1_000);
  world.transfer = (await a.transfer(world.wallet, world.savings, 2_000, 'shared-transfer')).id;

  const auto = await a.expectStatus<PaymentFields>(
    a.pay({ amount: 10_000, currency: 'USD', source: card, customer: 'cus_shared' }, 'shared-payment'),
    201,
  );
  expect(auto.status).toBe('succeeded');
  world.auto = auto.id;
  const refunded = await a.expectStatus<PaymentFields>(a.pay({ amount: 10_000, currency: 'USD', source: card }), 201);
  expect(refunded.status).toBe('succeeded');
  world.refunded = refunded.id;
  const refund = await a.refund(world.refunded, { reason: 'requested_by_customer' }, 'shared-refund');
  expect(refund).toMatchObject({ status: 'succeeded', amount: 10_000 });
  world.refund = refund.id;
  const manual = await a.expectStatus<PaymentFields>(
    a.pay({ amount: 5_000, currency: 'USD', source: card, capture_method: 'manual' }),
    201,
  );
  expect(manual).toMatchObject({ status: 'requires_capture', amount_capturable: 5_000 });
  world.manual = manual.id;
  const review = await a.expectStatus<PaymentFields>(a.pay({ amount: 60_000, currency: 'USD', source: card }), 201);
  expect(review.status).toBe('requires_review');
  world.review = review.id;
  const walletPayment = await a.expectStatus<PaymentFields>(
    a.pay({ amount: 3_000, currency: 'USD', source: { type: 'wallet', account_id: world.wallet } }),
    201,
  );
  expect(walletPayment.status).toBe('succeeded');
  world.walletPayment = walletPayment.id;
  world.events = (await a.events()).map((event) => event.id);
  world.entries = (await a.entries(world.wallet)).map((entry) => entry.id);
  const apiKey = await a.expectStatus<{ id: string; secret: string }>(
    a.call('POST', '/v1/api_keys', { name: 'shared' }),
    201,
  );
  [world.apiKey, world.apiKeySecret] = [apiKey.id, apiKey.secret];

  mine.wallet = await b.openAccount();
  mine.deposit = (await b.deposit(mine.wallet, 10_000)).id;
  const payment = await b.expectStatus<PaymentFields>(
    b.pay({ amount: 2_000, currency: 'USD', source: card, customer: 'cus_shared' }),
    201,
  );
  expect(payment.status).toBe('succeeded');
  mine.payment = payment.id;

  // A's events reached A's endpoint: there are deliveries B could try to list or redeliver.
  await vi.waitFor(async () => {
    const delivered = await a.deliveries(world.endpoint, '&status=succeeded');
    expect(delivered.length).toBe((await a.events()).length);
  }, poll);
});

afterAll(async () => {
  await stack?.close();
  await receiver?.close();
});

/** Every route that reads one of A's resources, with the noun its 404 names. */
function readsOfA() {
  return [
    { url: `/v1/accounts/${world.wallet}`, noun: 'account', id: world.wallet },
    { url: `/v1/accounts/${world.wallet}/balance`, noun: 'account', id: world.wallet },
    { url: `/v1/accounts/${world.wallet}/balance?at=${new Date().toISOString()}`, noun: 'account', id: world.wallet },
    { url: `/v1/accounts/${world.wallet}/entries`, noun: 'account', id: world.wallet },
    { url: `/v1/accounts/${pendingAccountOf(a.merchant)}`, noun: 'account', id: pendingAccountOf(a.merchant) },
    {
      url: `/v1/accounts/${pendingAccountOf(a.merchant)}/entries`,
      noun: 'account',
      id: pendingAccountOf(a.merchant),
    },
    { url: `/v1/deposits/${world.deposit}`, noun: 'deposit', id: world.deposit },
    { url: `/v1/transfers/${world.transfer}`, noun: 'transfer', id: world.transfer },
    { url: `/v1/refunds/${world.refund}`, noun: 'refund', id: world.refund },
    ...[world.auto, world.refunded, world.manual, world.review, world.walletPayment].flatMap((id) => [
      { url: `/v1/payments/${id}`, noun: 'payment', id },
      { url: `/v1/payments/${id}?expand[]=events`, noun: 'payment', id },
      { url: `/v1/payments/${id}/ledger`, noun: 'payment', id },
      { url: `/v1/payments/${id}/refunds`, noun: 'payment', id },
    ]),
    { url: `/v1/events/${world.events[0]}`, noun: 'event', id: world.events[0]! },
    { url: `/v1/webhook_endpoints/${world.endpoint}`, noun: 'webhook endpoint', id: world.endpoint },
    { url: `/v1/webhook_endpoints/${world.endpoint}/deliveries`, noun: 'webhook endpoint', id: world.endpoint },
    { url: `/v1/api_keys/${world.apiKey}`, noun: 'API key', id: world.apiKey },
  ];
}

describe('merchant B and merchant A', () => {
  it("B reads none of A's resources: 404 resource_missing, as for an id that never existed, never 403 or data", async () => {
    for (const probe of readsOfA()) {
      // The probe is right: A reads it.
      expect([probe.url, (await a.get(probe.url)).statusCode]).toEqual([probe.url, 200]);
      const response = await b.get(probe.url);
      expect([probe.url, response.statusCode]).toEqual([probe.url, 404]);
      expect(response.json(), probe.url).toEqual(missing(probe.noun, probe.id));
      const ghost = ghostOf(probe.id);
      expectIndistinguishable(probe.url, response, await b.get(probe.url.replace(probe.id, ghost)), {
        real: probe.id,
        ghost,
      });
    }
    // Platform accounts are no merchant's: their ids (shown in payment ledgers) answer 404 to all.
    for (const client of [a, b]) {
      const response = await client.get(`/v1/accounts/${platformFees}/entries`);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual(missing('account', platformFees));
    }
  });

  it("B cannot act on A's resources: 404 for every action, and A's resources stay exactly as they were", async () => {
    const snapshot = async () => ({
      accounts: await Promise.all(
        [world.wallet, world.savings, pendingAccountOf(a.merchant)].map(async (id) => ({
          account: await a.read(`/v1/accounts/${id}`),
          entries: await a.entries(id),
        })),
      ),
      payments: await Promise.all(
        [world.auto, world.refunded, world.manual, world.review, world.walletPayment].map(async (id) =>
          paymentState(await a.payment(id)),
        ),
      ),
      endpoint: await a.read(`/v1/webhook_endpoints/${world.endpoint}`),
      deliveries: await a.deliveries(world.endpoint),
      events: (await a.events()).map((event) => event.id),
      // Last use moves as A reads (once a minute at most): the rest of each key must not.
      apiKeys: (await a.read<{ data: { last_used_at: unknown }[] }>('/v1/api_keys?limit=100')).data.map((key) => ({
        ...key,
        last_used_at: null,
      })),
      provider: (await stack.sim.inject({ method: 'GET', url: '/admin/stats' })).json(),
    });
    const before = await snapshot();

    const hijack = { url: receiver.url('b'), events: ['*'] };
    const attempts: { method: Method; url: string; id: string; payload?: object; key?: boolean }[] = [
      {
        method: 'POST',
        url: `/v1/accounts/${world.wallet}/deposits`,
        id: world.wallet,
        payload: { amount: 1, reference: 'x' },
        key: true,
      },
      { method: 'POST', url: `/v1/payments/${world.manual}/capture`, id: world.manual, payload: {} },
      {
        method: 'POST',
        url: `/v1/payments/${world.manual}/capture`,
        id: world.manual,
        payload: { amount: 5_000 },
        key: true,
      },
      { method: 'POST', url: `/v1/payments/${world.manual}/cancel`, id: world.manual, payload: {} },
      { method: 'POST', url: `/v1/payments/${world.review}/approve`, id: world.review, payload: {}, key: true },
      { method: 'POST', url: `/v1/payments/${world.review}/reject`, id: world.review, payload: {} },
      {
        method: 'POST',
        url: `/v1/payments/${world.auto}/refunds`,
        id: world.auto,
        payload: { amount: 100 },
        key: true,
      },
      { method: 'POST', url: `/v1/payments/${world.auto}/refunds`, id: world.auto, payload: {} },
      // Fully refunded: A would be told 409; B must not learn even that.
      { method: 'POST', url: `/v1/payments/${world.refunded}/refunds`, id: world.refunded, payload: {} },
      { method: 'POST', url: `/v1/payments/${world.walletPayment}/refunds`, id: world.walletPayment, payload: {} },
      {
        method: 'POST',
        url: `/v1/payments/${world.auto}`,
        id: world.auto,
        payload: { description: 'B was here', metadata: { owner: 'b' } },
      },
      {
        method: 'POST',
        url: `/v1/accounts/${world.wallet}`,
        id: world.wallet,
        payload: { description: 'B was here', metadata: { owner: 'b' } },
        key: true,
      },
      { method: 'POST', url: `/v1/events/${world.events[0]}/redeliver`, id: world.events[0]! },
      { method: 'POST', url: `/v1/webhook_endpoints/${world.endpoint}`, id: world.endpoint, payload: hijack },
      {
        method: 'POST',
        url: `/v1/webhook_endpoints/${world.endpoint}`,
        id: world.endpoint,
        payload: { disabled: true },
      },
      { method: 'DELETE', url: `/v1/webhook_endpoints/${world.endpoint}`, id: world.endpoint },
      { method: 'POST', url: `/v1/api_keys/${world.apiKey}/roll`, id: world.apiKey, payload: {} },
      {
        method: 'POST',
        url: `/v1/api_keys/${world.apiKey}/roll`,
        id: world.apiKey,
        payload: { expires_in_seconds: 0 },
      },
      { method: 'DELETE', url: `/v1/api_keys/${world.apiKey}`, id: world.apiKey },
    ];
    for (const [index, attempt] of attempts.entries()) {
      const headers = attempt.key ? b.keyed(`act-${index}`) : {};
      const response = await b.call(attempt.method, attempt.url, attempt.payload, headers);
      const label = `${attempt.method} ${attempt.url}`;
      const ghost = ghostOf(attempt.id);
      const ghostResponse = await b.call(
        attempt.method,
        attempt.url.replace(attempt.id, ghost),
        attempt.payload,
        attempt.key ? b.keyed(`ghost-${index}`) : {},
      );
      expectIndistinguishable(label, response, ghostResponse, { real: attempt.id, ghost });
    }

    expect(await snapshot()).toEqual(before);
    // A's second key still opens A's routes.
    const withKey = await stack.app.inject({ method: 'GET', url: '/v1/api_keys', headers: bearer(world.apiKeySecret) });
    expect(withKey.statusCode).toBe(200);
  });

  it("B cannot use A's resources as inputs: wallet source, transfer ends, list cursors", async () => {
    const before = await a.read(`/v1/accounts/${world.wallet}`);
    const mineBefore = await b.read(`/v1/accounts/${mine.wallet}`);
    const ghostAccount = ghostOf(world.wallet);
    const walletPayment = (account: string) => ({
      amount: 100,
      currency: 'USD',
      source: { type: 'wallet', account_id: account },
    });
    const transfer = (from: string, to: string) => ({
      from_account_id: from,
      to_account_id: to,
      amount: 100,
      currency: 'USD',
    });
    const inputs = [
      { label: 'wallet payment from A', url: '/v1/payments', param: 'source.account_id', payload: walletPayment },
      {
        label: 'transfer from A',
        url: '/v1/transfers',
        param: 'from_account_id',
        payload: (id: string) => transfer(id, mine.wallet),
      },
      {
        label: 'transfer to A',
        url: '/v1/transfers',
        param: 'to_account_id',
        payload: (id: string) => transfer(mine.wallet, id),
      },
    ];
    for (const input of inputs) {
      for (const account of [world.wallet, pendingAccountOf(a.merchant), platformFees]) {
        const label = `${input.label} (${account})`;
        const response = await b.call('POST', input.url, input.payload(account), b.keyed(randomUUID()));
        const ghost = await b.call('POST', input.url, input.payload(ghostAccount), b.keyed(randomUUID()));
        expectIndistinguishable(label, response, ghost, { real: account, ghost: ghostAccount });
        expect(response.json().error.message, label).toBe(`No such account: '${account}'.`);
        // The 404 names the body field the id came from.
        expect(response.json().error.param, label).toBe(input.param);
      }
    }
    expect(await a.read(`/v1/accounts/${world.wallet}`)).toEqual(before);
    expect(await b.read(`/v1/accounts/${mine.wallet}`)).toEqual(mineBefore);
    expect(await b.list('/v1/payments?limit=100')).toEqual([mine.payment]);

    const aDeliveries = await a.deliveries(world.endpoint);
    const cursors = [
      { url: '/v1/payments?starting_after=', id: world.auto },
      { url: '/v1/events?starting_after=', id: world.events[0]! },
      { url: '/v1/webhook_endpoints?starting_after=', id: world.endpoint },
      { url: '/v1/api_keys?starting_after=', id: world.apiKey },
      { url: `/v1/accounts/${mine.wallet}/entries?starting_after=`, id: world.entries[0]! },
      { url: `/v1/webhook_endpoints/${mine.endpoint}/deliveries?starting_after=`, id: aDeliveries[0]!.id },
      { url: '/v1/accounts?starting_after=', id: world.wallet },
      { url: '/v1/accounts?ending_before=', id: world.wallet },
      { url: '/v1/deposits?starting_after=', id: world.deposit },
      { url: '/v1/transfers?ending_before=', id: world.transfer },
      { url: '/v1/refunds?starting_after=', id: world.refund },
      { url: '/v1/payments?ending_before=', id: world.auto },
      { url: '/v1/events?ending_before=', id: world.events[0]! },
    ];
    for (const cursor of cursors) {
      const response = await b.get(`${cursor.url}${cursor.id}`);
      const ghost = ghostOf(cursor.id);
      expectIndistinguishable(cursor.url, response, await b.get(`${cursor.url}${ghost}`), { real: cursor.id, ghost });
      expect(response.json().error.param, cursor.url).toBe(
        cursor.url.includes('ending_before') ? 'ending_before' : 'starting_after',
      );
      // The cursor is right: A pages with it.
      const own = cursor.url.replace(mine.wallet, world.wallet).replace(mine.endpoint, world.endpoint);
      expect([own, (await a.get(`${own}${cursor.id}`)).statusCode]).toEqual([own, 200]);
    }
    // A filter naming A's event finds nothing among B's deliveries.
    expect(await b.deliveries(mine.endpoint, `&event_id=${world.events[0]}`)).toEqual([]);
  });

  it("never lists A's resources to B, whatever the filter", async () => {
    const aPayments = [world.auto, world.refunded, world.manual, world.review, world.walletPayment];
    expect(aPayments.every(Boolean)).toBe(true);
    const paymentQueries: [string, string[]][] = [
      ['', [mine.payment]],
      ['&customer=cus_shared', [mine.payment]],
      ['&status=succeeded', [mine.payment]],
      ['&status=requires_capture', []],
      ['&status=requires_review', []],
      [`&created[gte]=${startedAt}`, [mine.payment]],
    ];
    for (const [query, expected] of paymentQueries) {
      expect([query, await b.list(`/v1/payments?limit=100${query}`)]).toEqual([query, expected]);
    }
    // A sees its own with the same filters: the filters do select something.
    expect(await a.list('/v1/payments?limit=100&customer=cus_shared')).toEqual([world.auto]);
    expect(await a.list('/v1/payments?limit=100&status=requires_capture')).toEqual([world.manual]);

    // Which payment events there are is the catalog's business; whose they are is this suite's.
    const bEvents = await b.events();
    expect(bEvents.map((event) => event.type)).toEqual(
      expect.arrayContaining(['deposit.succeeded', 'payment.succeeded']),
    );
    expect(new Set(bEvents.map((event) => event.data.object.id))).toEqual(new Set([mine.deposit, mine.payment]));
    for (const query of [
      '&type=transfer.succeeded',
      '&type=refund.succeeded',
      '&type=payment.requires_capture',
      '&type=payment.requires_review',
    ]) {
      expect([query, await b.events(query)]).toEqual([query, []]);
      expect([query, (await a.events(query)).length]).toEqual([query, 1]);
    }
    const bPaymentEvents = await b.events('&type=payment.*');
    expect(bPaymentEvents.map((event) => event.data.object.id)).toEqual(bPaymentEvents.map(() => mine.payment));
    expect(bPaymentEvents.map((event) => event.id)).toEqual(
      bEvents.filter((event) => event.type.startsWith('payment.')).map((event) => event.id),
    );
    expect((await b.events(`&created[gte]=${startedAt}`)).map((event) => event.id)).toEqual(
      bEvents.map((event) => event.id),
    );

    expect(await b.list('/v1/webhook_endpoints?limit=100')).toEqual([mine.endpoint]);
    // B's one key, A's two: each sees its own only.
    expect(await b.list('/v1/api_keys?limit=100')).toHaveLength(1);
    const aKeys = await a.list('/v1/api_keys?limit=100');
    expect(aKeys).toContain(world.apiKey);
    expect(aKeys).toHaveLength(2);
    for (const id of aKeys) expect(await b.list('/v1/api_keys?limit=100')).not.toContain(id);
    const bDeliveries = await b.deliveries(mine.endpoint);
    expect(bDeliveries.map((delivery) => delivery.event_id).sort()).toEqual(bEvents.map((event) => event.id).sort());

    // The other resources' lists, each with a filter naming A's resource.
    const lists: [string, string[], string[]][] = [
      // B's own: its wallet and the account its card payments are pending in.
      ['/v1/accounts?limit=100', [mine.wallet, pendingAccountOf(b.merchant)], [world.savings, world.wallet]],
      [`/v1/deposits?limit=100`, [mine.deposit], []],
      [`/v1/deposits?limit=100&account_id=${world.wallet}`, [], [world.deposit]],
      ['/v1/transfers?limit=100', [], [world.transfer]],
      [`/v1/transfers?limit=100&account_id=${world.savings}`, [], [world.transfer]],
      ['/v1/refunds?limit=100', [], [world.refund]],
      [`/v1/refunds?limit=100&payment_id=${world.refunded}`, [], [world.refund]],
    ];
    for (const [url, bSees, aSees] of lists) {
      expect([url, (await b.list(url)).sort()]).toEqual([url, [...bSees].sort()]);
      if (aSees.length > 0) expect([url, await a.list(url)]).toEqual([url, expect.arrayContaining(aSees)]);
    }

    // B's accounts hold B's entries only.
    const entries = await b.entries(mine.wallet);
    expect(entries.map((entry) => [entry.amount, entry.balance_after])).toEqual([[10_000, 10_000]]);
  });

  it("keeps B's ledger figures to B: A's activity changes none of them, and platform balances stay hidden", async () => {
    const bPending = pendingAccountOf(b.merchant);
    const at = new Date().toISOString();
    const figures = async () => ({
      accounts: await Promise.all(
        [mine.wallet, bPending].map(async (id) => ({
          account: await b.read(`/v1/accounts/${id}`),
          balanceAt: await b.read(`/v1/accounts/${id}/balance?at=${at}`),
          // Without `at`, the balance now: all of it but the instant it was read at.
          balance: withoutInstant(
            await b.read<{ balance: number; available: number; held: number; at: string }>(
              `/v1/accounts/${id}/balance`,
            ),
          ),
          entries: await b.entries(id),
        })),
      ),
      ledger: await b.read<{
        data: { kind: string; entries: { account_id: string; amount: number; balance_after: number | null }[] }[];
      }>(`/v1/payments/${mine.payment}/ledger`),
    });
    const before = await figures();
    // B's own numbers: a 20.00 card payment, 2.9 % + 0.30 fee.
    const lines = before.ledger.data.flatMap((transaction) => transaction.entries);
    expect(lines.map((line) => [line.account_id, line.amount, line.balance_after]).sort()).toEqual(
      [
        ['acct_sys_provider_clearing_usd', -2_000, null],
        [bPending, 1_912, 1_912],
        [platformFees, 88, null],
      ].sort(),
    );
    expect(before.accounts.map(({ balance }) => [balance.balance, balance.available, balance.held])).toEqual([
      [10_000, 10_000, 0],
      [1_912, 1_912, 0],
    ]);

    // A does everything B just failed to do, and more: each moves the platform accounts B's ledger shows.
    const captured = await a.expectStatus<PaymentFields>(
      a.call('POST', `/v1/payments/${world.manual}/capture`, {}),
      200,
    );
    expect(captured).toMatchObject({ status: 'succeeded', amount_captured: 5_000 });
    const approved = await a.expectStatus<PaymentFields>(
      a.call('POST', `/v1/payments/${world.review}/approve`, {}),
      200,
    );
    expect(approved).toMatchObject({ status: 'succeeded', amount_captured: 60_000 });
    expect(await a.refund(world.auto, { amount: 2_500 })).toMatchObject({ status: 'succeeded', amount: 2_500 });
    expect(await a.refund(world.walletPayment, {})).toMatchObject({ status: 'succeeded', amount: 3_000 });
    const extra = await a.expectStatus<PaymentFields>(
      a.pay({ amount: 7_000, currency: 'USD', source: card, customer: 'cus_shared' }),
      201,
    );
    expect(extra.status).toBe('succeeded');
    await a.deposit(world.savings, 4_000);
    await a.transfer(world.savings, world.wallet, 1_500);

    // A's own ledger hides platform balances from A too.
    const aLedger = await a.read<{ data: { entries: { account_id: string; balance_after: number | null }[] }[] }>(
      `/v1/payments/${world.review}/ledger`,
    );
    for (const line of aLedger.data.flatMap((transaction) => transaction.entries)) {
      expect([line.account_id, line.balance_after === null]).toEqual([
        line.account_id,
        line.account_id.startsWith('acct_sys_'),
      ]);
    }

    expect(await figures()).toEqual(before);
  });

  it("gives B its own resource for an Idempotency-Key A used, even with A's very request", async () => {
    const samePayment = { amount: 10_000, currency: 'USD', source: card, customer: 'cus_shared' };
    const first = await b.pay(samePayment, 'shared-payment');
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const payment = first.json<PaymentFields>();
    expect(payment).toMatchObject({ status: 'succeeded', amount: 10_000, amount_captured: 10_000 });
    expect(payment.id).not.toBe(world.auto);
    // The key is B's now: B's retry replays B's payment; A's retry still replays A's.
    const replay = await b.pay(samePayment, 'shared-payment');
    expect([replay.statusCode, replay.headers['idempotent-replayed'], replay.json().id]).toEqual([
      201,
      'true',
      payment.id,
    ]);
    const aReplay = await a.pay(samePayment, 'shared-payment');
    expect([aReplay.statusCode, aReplay.headers['idempotent-replayed'], aReplay.json().id]).toEqual([
      201,
      'true',
      world.auto,
    ]);

    const deposit = await b.deposit(mine.wallet, 50_000, 'shared-deposit');
    expect(deposit.id).not.toBe(world.deposit);
    expect(deposit.transaction_id).not.toBe(world.depositTransaction);
    const savings = await b.openAccount();
    const transfer = await b.transfer(mine.wallet, savings, 2_000, 'shared-transfer');
    expect(transfer.status).toBe('succeeded');
    expect(transfer.id).not.toBe(world.transfer);
    const refund = await b.refund(payment.id, { reason: 'requested_by_customer' }, 'shared-refund');
    expect(refund).toMatchObject({ status: 'succeeded', amount: 10_000 });
    expect(refund.id).not.toBe(world.refund);

    const sameEndpoint = { url: receiver.url('shared'), events: ['webhook_endpoint.disabled'] };
    const aEndpoint = await a.createEndpoint(sameEndpoint.url, sameEndpoint.events, a.keyed('shared-endpoint'));
    const bEndpoint = await b.createEndpoint(sameEndpoint.url, sameEndpoint.events, b.keyed('shared-endpoint'));
    expect(bEndpoint.id).not.toBe(aEndpoint.id);
    expect(bEndpoint.secret).not.toBe(aEndpoint.secret);

    // Each merchant's books have exactly its own: A's resources are as A made them.
    expect(await b.read(`/v1/accounts/${mine.wallet}`)).toMatchObject({ balance: 58_000, held: 0 });
    expect(await b.read(`/v1/accounts/${savings}`)).toMatchObject({ balance: 2_000 });
    expect(paymentState(await a.payment(world.auto))).toMatchObject({
      amount_captured: 10_000,
      amount_refunded: 2_500,
    });
    expect(await a.read(`/v1/deposits/${world.deposit}`)).toMatchObject({ amount: 50_000, account_id: world.wallet });
    expect(await a.read(`/v1/transfers/${world.transfer}`)).toMatchObject({
      amount: 2_000,
      to_account_id: world.savings,
    });
    for (const client of [a, b]) {
      const response = await client.call(
        'DELETE',
        `/v1/webhook_endpoints/${client === a ? aEndpoint.id : bEndpoint.id}`,
      );
      expect(response.statusCode).toBe(200);
    }
  });

  it("counts velocity per merchant: A's payments by a customer never block B's by the same customer id", async () => {
    const customer = `cus_${randomUUID()}`;
    const statuses = async (client: Client, count: number) => {
      const seen: [string, string | null][] = [];
      for (let i = 0; i < count; i++) {
        const payment = await client.expectStatus<PaymentFields>(
          client.pay({ amount: 1_000, currency: 'USD', source: card, customer }),
          201,
        );
        seen.push([payment.status, payment.failure_code]);
      }
      return seen;
    };
    const blocked: [string, string | null] = ['failed', 'payment_blocked'];
    expect(await statuses(a, 3)).toEqual([['succeeded', null], ['succeeded', null], blocked]);
    // B's count starts at zero and reaches its own limit, not A's.
    expect(await statuses(b, 3)).toEqual([['succeeded', null], ['succeeded', null], blocked]);
  });

  it('caps webhook endpoints per merchant: A at the cap leaves B all of its own', async () => {
    const url = receiver.url('cap');
    const fill = async (client: Client) => {
      const made: string[] = [];
      const existing = (await client.list('/v1/webhook_endpoints?limit=100')).length;
      for (let i = existing; i < maxEndpointsPerMerchant; i++) {
        made.push((await client.createEndpoint(url, ['webhook_endpoint.disabled'])).id);
      }
      const refused = await client.call('POST', '/v1/webhook_endpoints', {
        url,
        events: ['webhook_endpoint.disabled'],
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toEqual({
        error: {
          type: 'invalid_request_error',
          code: 'webhook_endpoint_limit_reached',
          message: `A merchant can have at most ${maxEndpointsPerMerchant} webhook endpoints; delete one before adding another.`,
        },
      });
      return made;
    };
    const aMade = await fill(a);
    expect(aMade).toHaveLength(maxEndpointsPerMerchant - 2);
    const bMade = await fill(b);
    expect(bMade).toHaveLength(maxEndpointsPerMerchant - 1);
    for (const [client, made] of [
      [a, aMade],
      [b, bMade],
    ] as const) {
      for (const id of made) expect((await client.call('DELETE', `/v1/webhook_endpoints/${id}`)).statusCode).toBe(200);
    }
  });

  it("sends B's endpoint B's events only, signed with B's secret, and A's failed deliveries stay A's to redeliver", async () => {
    // Both merchants at once, so the relay's batches hold events of both.
    const [aAccount, bAccount] = [await a.openAccount(), await b.openAccount()];
    await Promise.all([1, 2, 3].flatMap((amount) => [a.deposit(aAccount, amount), b.deposit(bAccount, amount)]));
    const bEvents = async () => (await b.events()).map((event) => event.id).sort();
    await expect
      .poll(async () => [...new Set(receiver.received('b').map((item) => item.event.id))].sort(), poll)
      .toEqual(await bEvents());
    const aEvents = new Set((await a.events()).map((event) => event.id));
    for (const item of receiver.received('b')) {
      expect(aEvents.has(item.event.id)).toBe(false);
      expect(
        verifyWebhookSignature({ header: item.headers.signature, body: item.body, secret: mine.endpointSecret }),
      ).toMatchObject({ valid: true });
    }
    const bIds = new Set(await bEvents());
    for (const item of receiver.received('a')) {
      expect(aEvents.has(item.event.id)).toBe(true);
      expect(bIds.has(item.event.id)).toBe(false);
    }
    expect(receiver.received('shared')).toEqual([]);

    // A's delivery to its failing endpoint ends failed; B's redeliver of that event is a 404 and
    // sends nothing, A's own sends it again.
    // A's transfers' deliveries to its failing endpoint all end failed.
    const transfers = (await a.events('&type=transfer.succeeded')).length;
    const failed = async () => a.deliveries(world.downEndpoint);
    await expect
      .poll(async () => (await failed()).map((delivery) => delivery.status), poll)
      .toEqual(Array.from({ length: transfers }, () => 'failed'));
    const deliveriesBefore = await failed();
    const delivery = deliveriesBefore[0];
    const before = receiver.received('a-down').length;
    const refused = await b.call('POST', `/v1/events/${delivery!.event_id}/redeliver`);
    expect(refused.statusCode).toBe(404);
    expect(refused.json()).toEqual(missing('event', delivery!.event_id));
    expect(await failed()).toEqual(deliveriesBefore);
    expect(receiver.received('a-down')).toHaveLength(before);
    const again = await a.expectStatus<{ data: { endpoint_id: string; generation: number }[] }>(
      a.call('POST', `/v1/events/${delivery!.event_id}/redeliver`),
      200,
    );
    // A's two endpoints that got the event, the failed one and the one that took it: A's alone.
    expect(again.data.map((item) => [item.endpoint_id, item.generation]).sort()).toEqual(
      [
        [world.downEndpoint, 1],
        [world.endpoint, 1],
      ].sort(),
    );
    await expect.poll(() => receiver.received('a-down').length, poll).toBeGreaterThan(before);
  });

  it('gives B ids that reveal nothing of how many resources A made in between', async () => {
    const startedPart = idTimePart(Date.now());
    const families: Record<string, string[]> = {
      acct: [],
      dep: [],
      pay: [],
      evt: [],
      ent: [],
      txn: [],
      we: [],
      ak: [],
    };
    for (let round = 0; round < 4; round++) {
      // A makes a burst between each of B's: sequential ids would step by A's count.
      for (let i = 0; i < 3; i++) await a.openAccount();
      const account = await b.openAccount();
      families.acct!.push(account);
      const deposit = await b.deposit(account, 100);
      families.dep!.push(deposit.id);
      families.txn!.push(deposit.transaction_id);
      families.ent!.push(...(await b.entries(account)).map((entry) => entry.id));
      families.we!.push((await b.createEndpoint(receiver.url('ids'), ['webhook_endpoint.disabled'])).id);
      await a.call('POST', '/v1/api_keys', {});
      families.ak!.push((await b.expectStatus<{ id: string }>(b.call('POST', '/v1/api_keys', {}), 201)).id);
    }
    families.pay = await b.list('/v1/payments?limit=100');
    families.evt = (await b.events()).map((event) => event.id);
    families.wd = (await b.deliveries(mine.endpoint)).map((delivery) => delivery.id);
    for (const [prefix, ids] of Object.entries(families)) {
      expect(ids.length, prefix).toBeGreaterThanOrEqual(4);
      for (const id of ids) expect(id).toMatch(new RegExp(`^${prefix}_[0-9A-Za-z_-]{22}$`));
      // Payment and deposit ids are a hash of their workflow id: random all through. The
      // others are their own creation time (public anyway, as `created`), then 14 random
      // characters: the time part can only say when B's resource was made. Random parts share a
      // 4-character start with odds of about one in 15 million; counters made close together
      // share far more.
      const timeOrdered = prefix !== 'pay' && prefix !== 'dep';
      const randomPart = (id: string) => id.slice(prefix.length + 1 + (timeOrdered ? 8 : 0));
      if (timeOrdered) {
        for (const id of ids) {
          const timePart = id.slice(prefix.length + 1, prefix.length + 9);
          expect(timePart <= idTimePart(Date.now()), id).toBe(true);
        }
        const madeNow = ids.filter((id) => id.slice(prefix.length + 1, prefix.length + 9) >= startedPart);
        expect(madeNow.length, prefix).toBeGreaterThanOrEqual(prefix === 'wd' ? 0 : 4);
      }
      for (let i = 1; i < ids.length; i++)
        expect(sharedPrefix(randomPart(ids[i - 1]!), randomPart(ids[i]!)), `${ids[i - 1]} ${ids[i]}`).toBeLessThan(4);
    }
    for (const id of families.we!) expect((await b.call('DELETE', `/v1/webhook_endpoints/${id}`)).statusCode).toBe(200);
    for (const id of families.ak!) expect((await b.call('DELETE', `/v1/api_keys/${id}`)).statusCode).toBe(200);
  });
});

describe('rate limits', () => {
  it('limit each merchant on its own: A exhausting its limit leaves B its whole allowance', async () => {
    const limited = await startStack('tenant-isolation-ratelimit', { rateLimitPerSecond: 3 });
    try {
      const [first, second] = [await limited.merchant(), await limited.merchant()];
      const probe = (merchant: Merchant) =>
        limited.app.inject({ method: 'GET', url: '/v1/accounts/acct_none', headers: bearer(merchant.apiKey) });
      const statuses = async (merchant: Merchant, count: number) => {
        const seen: number[] = [];
        for (let i = 0; i < count; i++) seen.push((await probe(merchant)).statusCode);
        return seen;
      };
      expect(await statuses(first, 5)).toEqual([404, 404, 404, 429, 429]);
      expect(await statuses(second, 4)).toEqual([404, 404, 404, 429]);
      const limitedAnswer = await probe(first);
      expect(limitedAnswer.statusCode).toBe(429);
      expect(limitedAnswer.json().error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
    } finally {
      await limited.close();
    }
  });
});
