import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';

// Stripe-style lists and retrieval of every resource (src/api/list-pages.ts): pages in both
// directions with exact ids, created filters as ISO 8601 and Unix seconds, the one error shape
// for bad parameters, tenants apart; payments' expand[]; merchants for operators. Real API,
// Temporal, worker and PostgreSQL.

type Merchant = { id: string; apiKey: string };
type Listed = { object: 'list'; data: { id: string }[]; has_more: boolean };

let stack: Stack;

beforeAll(async () => {
  stack = await startStack('resource-lists', { rateLimitPerSecond: 10_000, riskMaxPaymentsPerWindow: 1_000_000 });
});
afterAll(async () => {
  await stack?.close();
});

const get = (merchant: Merchant, url: string) =>
  stack.app.inject({ method: 'GET', url, headers: bearer(merchant.apiKey) });

/** The ids of a list answer, after checking it is one. */
async function ids(merchant: Merchant, url: string): Promise<{ ids: string[]; hasMore: boolean }> {
  const response = await get(merchant, url);
  expect(response.statusCode, response.body).toBe(200);
  const list = response.json<Listed>();
  expect(list.object).toBe('list');
  return { ids: list.data.map((item) => item.id), hasMore: list.has_more };
}

async function openAccount(merchant: Merchant, currency = 'USD'): Promise<string> {
  const response = await stack.app.inject({
    method: 'POST',
    url: '/v1/accounts',
    headers: bearer(merchant.apiKey),
    payload: { type: 'customer', currency },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: string }>().id;
}

/** 2026-01-01T00:00:00Z in Unix seconds. */
const newYear = 1_767_225_600;
const at = (second: number) => new Date((newYear + second) * 1000);

describe('GET /v1/accounts', () => {
  let merchant: Merchant;
  /** Oldest first: created at 2026-01-01T00:00:01Z … 00:00:05Z. */
  const accounts: string[] = [];

  beforeAll(async () => {
    merchant = await stack.merchant();
    for (let second = 1; second <= 5; second++) {
      const id = await openAccount(merchant);
      // Known instants, so the created filters have exact answers.
      await stack.prisma.account.update({ where: { id }, data: { createdAt: at(second) } });
      accounts.push(id);
    }
  });

  it('pages newest first with starting_after, and back with ending_before', async () => {
    const [a1, a2, a3, a4, a5] = accounts;
    expect(await ids(merchant, '/v1/accounts?limit=2')).toEqual({ ids: [a5, a4], hasMore: true });
    expect(await ids(merchant, `/v1/accounts?limit=2&starting_after=${a4}`)).toEqual({ ids: [a3, a2], hasMore: true });
    expect(await ids(merchant, `/v1/accounts?limit=2&starting_after=${a2}`)).toEqual({ ids: [a1], hasMore: false });
    // Back: the page just newer than the cursor, still newest first; has_more: newer ones remain.
    expect(await ids(merchant, `/v1/accounts?limit=2&ending_before=${a1}`)).toEqual({ ids: [a3, a2], hasMore: true });
    expect(await ids(merchant, `/v1/accounts?limit=2&ending_before=${a3}`)).toEqual({ ids: [a5, a4], hasMore: false });
    expect(await ids(merchant, `/v1/accounts?ending_before=${a5}`)).toEqual({ ids: [], hasMore: false });
    expect(await ids(merchant, '/v1/accounts')).toEqual({ ids: [a5, a4, a3, a2, a1], hasMore: false });
  });

  it('filters by creation time given as ISO 8601 or Unix seconds, bounds inclusive or not', async () => {
    const [a1, a2, a3, a4] = accounts;
    const query = (filters: string) => ids(merchant, `/v1/accounts?${filters}`).then((page) => page.ids);
    expect(await query(`created[gte]=2026-01-01T00:00:02Z&created[lt]=${newYear + 5}`)).toEqual([a4, a3, a2]);
    expect(await query(`created[gt]=${newYear + 2}&created[lte]=2026-01-01T00:00:04.000%2B00:00`)).toEqual([a4, a3]);
    expect(await query(`created[lte]=${newYear + 1}`)).toEqual([a1]);
    expect(await query('created[gt]=2026-01-01T01:00:00%2B01:00&limit=1')).toEqual([accounts[4]]);
    expect(await query(`created[gte]=${newYear + 6}`)).toEqual([]);
    // Filters and cursors together: the page after a4 among those from 00:00:02 on.
    expect(await query(`created[gte]=${newYear + 2}&starting_after=${a4}`)).toEqual([a3, a2]);
  });

  it('pages rows that share one microsecond instant, in both directions, none skipped', async () => {
    // Rows written by one transaction share its now() to the microsecond, finer than a
    // JavaScript Date: the cursor is compared in the database, at full precision.
    const tied = await stack.merchant();
    const opened: string[] = [];
    for (let index = 0; index < 5; index++) opened.push(await openAccount(tied));
    await stack.prisma.$executeRaw`UPDATE accounts SET created_at = '2026-03-01 10:00:00.123456+00'
      WHERE merchant_id = ${tied.id} AND type = 'customer'`;
    const newestFirst = [...opened].sort().reverse();
    const seen: string[] = [];
    let page = await ids(tied, '/v1/accounts?type=customer&limit=2');
    seen.push(...page.ids);
    while (page.hasMore) {
      page = await ids(tied, `/v1/accounts?type=customer&limit=2&starting_after=${seen.at(-1)}`);
      seen.push(...page.ids);
    }
    expect(seen).toEqual(newestFirst);
    expect(await ids(tied, `/v1/accounts?type=customer&limit=2&ending_before=${newestFirst[4]}`)).toEqual({
      ids: newestFirst.slice(2, 4),
      hasMore: true,
    });
    expect(await ids(tied, `/v1/accounts?type=customer&ending_before=${newestFirst[2]}`)).toEqual({
      ids: newestFirst.slice(0, 2),
      hasMore: false,
    });
  });

  it('filters by type and currency', async () => {
    const eur = await openAccount(merchant, 'EUR');
    expect((await ids(merchant, '/v1/accounts?currency=EUR')).ids).toEqual([eur]);
    expect((await ids(merchant, '/v1/accounts?type=merchant')).ids).toEqual([]);
  });

  it.each([
    ['limit=0', 'parameter_invalid', 400, 'limit'],
    ['limit=101', 'parameter_invalid', 400, 'limit'],
    ['limit=ten', 'parameter_invalid', 400, 'limit'],
    ['starting_after=acct_unknown', 'resource_missing', 404, 'starting_after'],
    ['ending_before=acct_unknown', 'resource_missing', 404, 'ending_before'],
    ['created[gte]=yesterday', 'parameter_invalid', 400, 'created[gte]'],
    ['created[lt]=2026-02-30T00:00:00Z', 'parameter_invalid', 400, 'created[lt]'],
    ['created[lte]=-5', 'parameter_invalid', 400, 'created[lte]'],
    ['created[between]=1', 'parameter_unknown', 400, 'created[between]'],
  ])('refuses %s with %s in the one error shape', async (query, code, status, param) => {
    const response = await get(merchant, `/v1/accounts?${query}`);
    expect(response.statusCode, response.body).toBe(status);
    expect(response.json()).toEqual({
      error: { type: 'invalid_request_error', code, message: expect.any(String), param },
    });
  });

  it('refuses starting_after with ending_before', async () => {
    const response = await get(merchant, `/v1/accounts?starting_after=${accounts[0]}&ending_before=${accounts[1]}`);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'parameter_invalid', param: 'ending_before' });
  });

  it("shows a merchant none of another's accounts, and answers another's cursor as an unknown one", async () => {
    const other = await stack.merchant();
    const own = await openAccount(other);
    expect(await ids(other, '/v1/accounts')).toEqual({ ids: [own], hasMore: false });
    for (const param of ['starting_after', 'ending_before']) {
      const response = await get(other, `/v1/accounts?${param}=${accounts[2]}`);
      expect(response.statusCode).toBe(404);
      expect(response.json().error).toEqual({
        type: 'invalid_request_error',
        code: 'resource_missing',
        message: `No such account: '${accounts[2]}'.`,
        param,
      });
    }
    expect((await get(other, `/v1/accounts/${accounts[2]}`)).statusCode).toBe(404);
  });
});

describe('deposits, transfers and refunds', () => {
  let merchant: Merchant;
  let other: Merchant;
  let api: ReturnType<typeof paymentsClient>;

  beforeAll(async () => {
    merchant = await stack.merchant();
    other = await stack.merchant();
    api = paymentsClient(stack, merchant);
  });

  const deposit = async (accountId: string, amount: number) => {
    const response = await stack.app.inject({
      method: 'POST',
      url: `/v1/accounts/${accountId}/deposits`,
      headers: { ...bearer(merchant.apiKey), 'idempotency-key': api.nextKey() },
      payload: { amount, reference: `funding ${amount}` },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ id: string }>().id;
  };

  const transfer = async (from: string, to: string, amount: number) => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/transfers',
      headers: { ...bearer(merchant.apiKey), 'idempotency-key': api.nextKey() },
      payload: { from_account_id: from, to_account_id: to, amount, currency: 'USD' },
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ id: string; status: string }>();
  };

  it('lists deposits, of one account with account_id, in both directions', async () => {
    const first = await openAccount(merchant);
    const second = await openAccount(merchant);
    const d1 = await deposit(first, 100);
    const d2 = await deposit(second, 200);
    const d3 = await deposit(first, 300);
    expect(await ids(merchant, '/v1/deposits')).toEqual({ ids: [d3, d2, d1], hasMore: false });
    expect(await ids(merchant, `/v1/deposits?account_id=${first}`)).toEqual({ ids: [d3, d1], hasMore: false });
    expect(await ids(merchant, `/v1/deposits?limit=1&starting_after=${d3}`)).toEqual({ ids: [d2], hasMore: true });
    expect(await ids(merchant, `/v1/deposits?limit=1&ending_before=${d1}`)).toEqual({ ids: [d2], hasMore: true });
    // A cursor outside the filter still marks a place: the first account's deposits around d2.
    expect(await ids(merchant, `/v1/deposits?account_id=${first}&starting_after=${d2}`)).toEqual({
      ids: [d1],
      hasMore: false,
    });
    expect(await ids(merchant, `/v1/deposits?account_id=${first}&ending_before=${d2}`)).toEqual({
      ids: [d3],
      hasMore: false,
    });
    const listed = await get(merchant, `/v1/deposits?limit=1`);
    expect(listed.json().data).toEqual([(await get(merchant, `/v1/deposits/${d3}`)).json()]);
    expect(await ids(other, '/v1/deposits')).toEqual({ ids: [], hasMore: false });
    expect((await get(other, `/v1/deposits?starting_after=${d2}`)).statusCode).toBe(404);
  });

  it('lists transfers, of one account (either side) and by status', async () => {
    const a = await openAccount(merchant);
    const b = await openAccount(merchant);
    const c = await openAccount(merchant);
    await deposit(a, 1_000);
    const t1 = await transfer(a, b, 100);
    const t2 = await transfer(b, c, 50);
    const t3 = await transfer(c, a, 10_000);
    expect([t1.status, t2.status, t3.status]).toEqual(['succeeded', 'succeeded', 'failed']);
    expect(await ids(merchant, `/v1/transfers?account_id=${b}`)).toEqual({ ids: [t2.id, t1.id], hasMore: false });
    expect(await ids(merchant, `/v1/transfers?account_id=${a}&status=failed`)).toEqual({
      ids: [t3.id],
      hasMore: false,
    });
    expect(await ids(merchant, `/v1/transfers?limit=2&ending_before=${t1.id}`)).toEqual({
      ids: [t3.id, t2.id],
      hasMore: false,
    });
    const listed = (await get(merchant, `/v1/transfers?limit=1`)).json();
    expect(listed.data).toEqual([(await get(merchant, `/v1/transfers/${t3.id}`)).json()]);
    expect(await ids(other, '/v1/transfers')).toEqual({ ids: [], hasMore: false });
    expect((await get(other, `/v1/transfers/${t1.id}`)).statusCode).toBe(404);
  });

  it("lists refunds, all of them and a payment's, as GET /v1/refunds/:id shows each", async () => {
    const paid = (await api.create({ amount: 1_000, currency: 'USD', source: card() })).json<{ id: string }>().id;
    const alsoPaid = (await api.create({ amount: 1_000, currency: 'USD', source: card() })).json<{ id: string }>().id;
    const refund = async (paymentId: string, amount: number) => {
      const response = await api.act(paymentId, 'refunds', { amount });
      expect(response.statusCode, response.body).toBe(201);
      return response.json<{ id: string }>().id;
    };
    const r1 = await refund(paid, 100);
    const r2 = await refund(alsoPaid, 200);
    const r3 = await refund(paid, 300);
    expect(await ids(merchant, `/v1/payments/${paid}/refunds`)).toEqual({ ids: [r3, r1], hasMore: false });
    expect(await ids(merchant, `/v1/refunds?payment_id=${paid}`)).toEqual({ ids: [r3, r1], hasMore: false });
    expect(await ids(merchant, '/v1/refunds?limit=2')).toEqual({ ids: [r3, r2], hasMore: true });
    expect(await ids(merchant, `/v1/refunds?limit=2&starting_after=${r2}`)).toEqual({ ids: [r1], hasMore: false });
    expect(await ids(merchant, `/v1/refunds?ending_before=${r1}`)).toEqual({ ids: [r3, r2], hasMore: false });
    const listed = (await get(merchant, `/v1/payments/${paid}/refunds?limit=1`)).json();
    expect(listed.data).toEqual([(await get(merchant, `/v1/refunds/${r3}`)).json()]);
    // A cursor of another payment's refund is not one of this list's.
    const foreignCursor = await get(merchant, `/v1/payments/${paid}/refunds?starting_after=${r2}`);
    expect(foreignCursor.statusCode).toBe(404);
    expect(foreignCursor.json().error).toMatchObject({ code: 'resource_missing', param: 'starting_after' });

    expect(await ids(other, '/v1/refunds')).toEqual({ ids: [], hasMore: false });
    expect(await ids(other, `/v1/refunds?payment_id=${paid}`)).toEqual({ ids: [], hasMore: false });
    expect((await get(other, `/v1/payments/${paid}/refunds`)).statusCode).toBe(404);
    expect((await get(other, `/v1/refunds/${r1}`)).statusCode).toBe(404);
  });
});

describe('payments: lists and expand[]', () => {
  let merchant: Merchant;
  let api: ReturnType<typeof paymentsClient>;
  let refunded: string;
  let plain: string;

  beforeAll(async () => {
    merchant = await stack.merchant();
    api = paymentsClient(stack, merchant);
    refunded = (await api.create({ amount: 1_000, currency: 'USD', source: card() })).json().id;
    expect((await api.act(refunded, 'refunds', { amount: 400 })).statusCode).toBe(201);
    plain = (await api.create({ amount: 700, currency: 'USD', source: card() })).json().id;
  });

  it('lists payments without refunds or timelines unless expanded', async () => {
    const plainList = (await get(merchant, '/v1/payments')).json();
    expect(plainList.data.map((payment: { id: string }) => payment.id)).toEqual([plain, refunded]);
    for (const payment of plainList.data) {
      expect(payment).not.toHaveProperty('refunds');
      expect(payment).not.toHaveProperty('events');
    }
    const single = await api.get(refunded);
    const withRefunds = (await get(merchant, '/v1/payments?expand[]=refunds')).json();
    expect(withRefunds.data[1]).toEqual(single);
    expect(withRefunds.data[1].refunds).toHaveLength(1);

    const timeline = await api.timeline(refunded);
    expect(timeline.map((entry) => entry.type)).toEqual(['payment.created', 'payment.succeeded', 'refund.succeeded']);
    const both = (await get(merchant, '/v1/payments?expand[]=refunds&expand[]=events')).json();
    expect(both.data[1]).toEqual({ ...single, events: timeline });
    const eventsOnly = (await get(merchant, '/v1/payments?expand[]=events&limit=1')).json();
    expect(eventsOnly.data[0]).not.toHaveProperty('refunds');
    expect(eventsOnly.data[0].events).toEqual(await api.timeline(plain));
  });

  it('retrieves a payment with its refunds, and its timeline on request', async () => {
    const single = await api.get(refunded);
    expect(single.refunds).toHaveLength(1);
    expect(single).not.toHaveProperty('events');
    const expanded = (await get(merchant, `/v1/payments/${refunded}?expand[]=events`)).json();
    expect(expanded).toEqual({ ...single, events: await api.timeline(refunded) });
  });

  it('pages payments back with ending_before, and filters created in Unix seconds', async () => {
    expect(await ids(merchant, `/v1/payments?ending_before=${refunded}`)).toEqual({ ids: [plain], hasMore: false });
    const created = Math.floor(Date.parse((await api.get(plain)).created_at) / 1000);
    expect((await ids(merchant, `/v1/payments?created[gt]=${created + 1}`)).ids).toEqual([]);
    expect((await ids(merchant, `/v1/payments?created[lt]=${created + 2}`)).ids).toEqual([plain, refunded]);
  });

  it('refuses an unknown expansion', async () => {
    const response = await get(merchant, '/v1/payments?expand[]=customer');
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'parameter_invalid' });
  });
});

describe('GET /v1/merchants (admin)', () => {
  const admin = () => ({ id: 'admin', apiKey: stack.adminApiKey });

  it('lists merchants newest first without keys, and retrieves one', async () => {
    const first = await stack.merchant();
    const second = await stack.merchant();
    expect(await ids(admin(), '/v1/merchants?limit=2')).toEqual({ ids: [second.id, first.id], hasMore: true });
    expect(await ids(admin(), `/v1/merchants?limit=1&ending_before=${first.id}`)).toEqual({
      ids: [second.id],
      hasMore: false,
    });
    const one = await get(admin(), `/v1/merchants/${first.id}`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual({
      id: first.id,
      object: 'merchant',
      name: 'resource-lists merchant',
      created_at: expect.any(String),
    });
    expect((await get(admin(), '/v1/merchants?limit=1')).json().data).toEqual([
      (await get(admin(), `/v1/merchants/${second.id}`)).json(),
    ]);
    expect((await get(admin(), '/v1/merchants/mer_unknown')).statusCode).toBe(404);
  });

  it('is for operators only', async () => {
    const merchant = await stack.merchant();
    for (const url of ['/v1/merchants', `/v1/merchants/${merchant.id}`]) {
      const response = await get(merchant, url);
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('permission_denied');
    }
  });
});
