import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import { maxMetadataKeys } from '../../src/domain/metadata-limits.ts';

// POST /v1/payments/:id and POST /v1/accounts/:id change the merchant's notes (description and
// metadata, merged as Stripe merges them): the change is what GET shows, it is announced as
// payment.updated / account.updated carrying exactly that, later events of the payment carry
// it too, limits are refused in the one error shape, and another merchant cannot touch them.
// Real API, Temporal, worker and PostgreSQL.

type Merchant = { id: string; apiKey: string };
type Json = Record<string, unknown>;
interface PublicEvent {
  id: string;
  type: string;
  data: { object: Json };
}

let stack: Stack;
let merchant: Merchant;
let other: Merchant;
let api: ReturnType<typeof paymentsClient>;

beforeAll(async () => {
  stack = await startStack('resource-updates', { rateLimitPerSecond: 10_000, riskMaxPaymentsPerWindow: 1_000_000 });
  merchant = await stack.merchant();
  other = await stack.merchant();
  api = paymentsClient(stack, merchant);
});
afterAll(async () => {
  await stack?.close();
});

const post = (who: Merchant, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  stack.app.inject({ method: 'POST', url, headers: { ...bearer(who.apiKey), ...headers }, payload: payload as Json });
const get = (who: Merchant, url: string) => stack.app.inject({ method: 'GET', url, headers: bearer(who.apiKey) });

/** The merchant's events about one resource, oldest first. */
async function eventsOf(resourceId: string, type: string): Promise<PublicEvent[]> {
  const response = await get(merchant, `/v1/events?type=${type}&limit=100`);
  expect(response.statusCode).toBe(200);
  return response
    .json<{ data: PublicEvent[] }>()
    .data.filter((event) => event.data.object.id === resourceId)
    .reverse();
}

const manyKeys = (count: number, prefix = 'k') =>
  Object.fromEntries(Array.from({ length: count }, (_, index) => [`${prefix}${index}`, 'v']));

describe('POST /v1/payments/:id', () => {
  it('merges metadata, sets and removes the description, and announces each change as GET shows it', async () => {
    const created = await api.create({
      amount: 1_000,
      currency: 'USD',
      source: card(),
      description: 'Order 1',
      metadata: { order: '1', gift: 'yes' },
    });
    const id = created.json().id;
    const first = await post(merchant, `/v1/payments/${id}`, { metadata: { gift: '', channel: 'web' } });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ id, description: 'Order 1', metadata: { order: '1', channel: 'web' } });
    expect(await api.get(id)).toEqual(first.json());
    // Stored as sealed as at creation (src/payments/payment-secrets.ts): no note in plaintext.
    const [stored] = await stack.prisma.$queryRaw<{ description: string; metadata: unknown }[]>`
      SELECT description, metadata FROM payments WHERE id = ${id}`;
    expect(stored?.description).toMatch(/^enc:v1:/);
    expect(stored?.metadata).toMatch(/^enc:v1:/);
    expect(JSON.stringify(stored)).not.toMatch(/web|Order 1/);

    const second = await post(merchant, `/v1/payments/${id}`, { description: null });
    expect(second.json()).toMatchObject({ description: null, metadata: { order: '1', channel: 'web' } });
    const cleared = await post(merchant, `/v1/payments/${id}`, { metadata: null, description: 'Order 1b' });
    expect(cleared.json()).toMatchObject({ description: 'Order 1b', metadata: null });
    // The status, amounts and refunds are the workflow's and untouched.
    const { description: _d, metadata: _m, ...rest } = cleared.json();
    const { description: _d0, metadata: _m0, ...before } = created.json();
    expect(rest).toEqual(before);

    const updates = await eventsOf(id, 'payment.updated');
    expect(updates.map((event) => event.data.object)).toEqual([first.json(), second.json(), cleared.json()]);
    expect(await api.get(id)).toEqual(cleared.json());
  });

  it("carries the updated notes in the payment's later events", async () => {
    const id = (await api.create({ amount: 2_000, currency: 'USD', source: card(), capture_method: 'manual' })).json()
      .id;
    const updated = await post(merchant, `/v1/payments/${id}`, { metadata: { order: '2' }, description: 'Later' });
    expect(updated.statusCode).toBe(200);
    const captured = await api.act(id, 'capture');
    expect(captured.statusCode, captured.body).toBe(200);
    expect(captured.json()).toMatchObject({ status: 'succeeded', metadata: { order: '2' }, description: 'Later' });
    const [succeeded] = await eventsOf(id, 'payment.succeeded');
    expect(succeeded?.data.object).toEqual(captured.json());
    expect(await api.get(id)).toEqual(captured.json());
  });

  it('replays a keyed update rather than applying it twice', async () => {
    const id = (await api.create({ amount: 500, currency: 'USD', source: card() })).json().id;
    const key = { 'idempotency-key': `update-${id}` };
    const first = await post(merchant, `/v1/payments/${id}`, { metadata: { n: '1' } }, key);
    const again = await post(merchant, `/v1/payments/${id}`, { metadata: { n: '1' } }, key);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await eventsOf(id, 'payment.updated')).toHaveLength(1);
  });

  it.each([
    ['more than 50 keys after the merge', () => manyKeys(maxMetadataKeys - 1, 'extra'), 'metadata'],
    ['a key over 40 characters', () => ({ ['k'.repeat(41)]: 'v' }), 'metadata'],
    ['a value over 500 characters', () => ({ note: 'v'.repeat(501) }), 'metadata.note'],
    ['a value that is not a string', () => ({ count: 3 }), 'metadata.count'],
    ['a key with a line break and a number', () => ({ 'two\nlines': 3 }), 'metadata.two\nlines'],
  ])('refuses %s in the one error shape, changing nothing', async (_name, metadata, param) => {
    const id = (await api.create({ amount: 600, currency: 'USD', source: card(), metadata: { a: '1', b: '2' } })).json()
      .id;
    const response = await post(merchant, `/v1/payments/${id}`, { metadata: metadata() });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toEqual({
      error: { type: 'invalid_request_error', code: 'parameter_invalid', message: expect.any(String), param },
    });
    expect((await api.get(id)).metadata).toEqual({ a: '1', b: '2' });
    expect(await eventsOf(id, 'payment.updated')).toEqual([]);
  });

  it('takes exactly 50 keys, and refuses fields it does not change', async () => {
    const id = (await api.create({ amount: 700, currency: 'USD', source: card() })).json().id;
    const full = await post(merchant, `/v1/payments/${id}`, { metadata: manyKeys(maxMetadataKeys) });
    expect(full.statusCode, full.body).toBe(200);
    expect(Object.keys(full.json().metadata)).toHaveLength(maxMetadataKeys);
    const amount = await post(merchant, `/v1/payments/${id}`, { amount: 1 });
    expect(amount.statusCode).toBe(400);
    expect(amount.json().error).toMatchObject({ code: 'parameter_unknown', param: 'amount' });
  });

  it("is 404 for another merchant's payment, which stays as it was", async () => {
    const id = (await api.create({ amount: 800, currency: 'USD', source: card(), description: 'Mine' })).json().id;
    const response = await post(other, `/v1/payments/${id}`, { description: 'Theirs' });
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toEqual({
      type: 'invalid_request_error',
      code: 'resource_missing',
      message: `No such payment: '${id}'.`,
      param: 'id',
    });
    expect((await api.get(id)).description).toBe('Mine');
    expect(await eventsOf(id, 'payment.updated')).toEqual([]);
  });
});

describe('POST /v1/accounts/:id', () => {
  it('creates with notes, merges updates, and announces account.updated as GET shows it', async () => {
    const created = await post(merchant, '/v1/accounts', {
      type: 'customer',
      currency: 'USD',
      description: 'Wallet 1',
      metadata: { customer: 'c1' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;
    expect(created.json()).toMatchObject({ description: 'Wallet 1', metadata: { customer: 'c1' } });

    const updated = await post(merchant, `/v1/accounts/${id}`, { metadata: { tier: 'gold' }, description: null });
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json()).toEqual({
      ...created.json(),
      description: null,
      metadata: { customer: 'c1', tier: 'gold' },
    });
    expect((await get(merchant, `/v1/accounts/${id}`)).json()).toEqual(updated.json());
    expect((await eventsOf(id, 'account.updated')).map((event) => event.data.object)).toEqual([updated.json()]);

    const tooMany = await post(merchant, `/v1/accounts/${id}`, { metadata: manyKeys(maxMetadataKeys - 1) });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error).toMatchObject({ code: 'parameter_invalid', param: 'metadata' });

    const foreign = await post(other, `/v1/accounts/${id}`, { description: 'Theirs' });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error).toMatchObject({ code: 'resource_missing', param: 'id' });
    expect((await get(merchant, `/v1/accounts/${id}`)).json()).toEqual(updated.json());
    expect(await eventsOf(id, 'account.updated')).toHaveLength(1);
  });
});
