import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { hashApiKey } from '../../src/api/auth.ts';
import { maxActiveApiKeysPerMerchant, type PublicApiKey } from '../../src/api-keys/api-keys.ts';
import { apiKeyLastUsedWriteIntervalMs } from '../../src/api-keys/last-used.ts';
import type { PublicEvent } from '../../src/events/present.ts';

// A merchant's API keys against the real stack: several at once, shown once, stored hashed,
// rolled with a grace window, revoked, never visible to another merchant, audited as events.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('api-keys');
});
afterAll(async () => stack?.close());

type Method = 'GET' | 'POST' | 'DELETE';

function client(apiKey: string) {
  return async (method: Method, url: string, payload?: object) =>
    stack.app.inject({ method, url, headers: bearer(apiKey), ...(payload ? { payload } : {}) });
}

/** A request only a valid merchant key gets a 200 for. */
async function statusWith(apiKey: string): Promise<number> {
  return (await client(apiKey)('GET', '/v1/api_keys?limit=1')).statusCode;
}

async function create(apiKey: string, name?: string): Promise<PublicApiKey & { secret: string }> {
  const response = await client(apiKey)('POST', '/v1/api_keys', name === undefined ? {} : { name });
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

async function list(apiKey: string): Promise<PublicApiKey[]> {
  const response = await client(apiKey)('GET', '/v1/api_keys?limit=100');
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ data: PublicApiKey[] }>().data;
}

async function keyEvents(apiKey: string): Promise<PublicEvent[]> {
  const response = await client(apiKey)('GET', '/v1/events?type=api_key.*&limit=100');
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ data: PublicEvent[] }>().data.reverse();
}

const invalid = (message: string) => ({
  error: { type: 'authentication_error', code: 'api_key_invalid', message },
});

describe('API keys', () => {
  it('a merchant starts with one key, named default, listed without its secret', async () => {
    const merchant = await stack.merchant();
    const keys = await list(merchant.apiKey);
    expect(keys).toHaveLength(1);
    const [first] = keys;
    expect(first).toEqual({
      id: expect.stringMatching(/^ak_[0-9A-Za-z]{22}$/),
      object: 'api_key',
      name: 'default',
      prefix: merchant.apiKey.slice(0, 12),
      status: 'active',
      created_at: expect.any(String),
      expires_at: null,
      revoked_at: null,
      // This very request used it: written before the answer.
      last_used_at: expect.any(String),
      rolled_to: null,
    });
    const row = await stack.prisma.apiKey.findUniqueOrThrow({ where: { id: first!.id } });
    expect(row.keyHash).toBe(hashApiKey(merchant.apiKey));
  });

  it('creates a key shown once, usable at once, stored only as its hash', async () => {
    const merchant = await stack.merchant();
    const created = await create(merchant.apiKey, 'checkout server');
    expect(created).toEqual({
      id: expect.stringMatching(/^ak_[0-9A-Za-z]{22}$/),
      object: 'api_key',
      name: 'checkout server',
      prefix: created.secret.slice(0, 12),
      status: 'active',
      created_at: expect.any(String),
      expires_at: null,
      revoked_at: null,
      last_used_at: null,
      rolled_to: null,
      secret: expect.stringMatching(/^sk_test_[0-9A-Za-z]{32}$/),
    });
    expect(await statusWith(created.secret)).toBe(200);

    const listed = await client(created.secret)('GET', '/v1/api_keys?limit=100');
    expect(listed.body).not.toContain(created.secret);
    expect(listed.body).not.toContain(merchant.apiKey);
    expect(listed.body).not.toContain('"secret"');
    const data = listed.json<{ object: string; data: PublicApiKey[]; has_more: boolean }>();
    expect(data.object).toBe('list');
    expect(data.has_more).toBe(false);
    expect(data.data.map((key) => key.name)).toEqual(['checkout server', 'default']);

    const row = await stack.prisma.apiKey.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.keyHash).toBe(hashApiKey(created.secret));
    expect(JSON.stringify(row)).not.toContain(created.secret);
    expect(await stack.prisma.apiKey.count({ where: { merchantId: merchant.id } })).toBe(2);
  });

  it('creates an unnamed key from an empty JSON body or no body at all', async () => {
    const merchant = await stack.merchant();
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/api_keys',
      headers: { ...bearer(merchant.apiKey), 'content-type': 'application/json' },
      payload: '',
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ object: 'api_key', name: null, status: 'active' });
    const bodiless = await stack.app.inject({ method: 'POST', url: '/v1/api_keys', headers: bearer(merchant.apiKey) });
    expect(bodiless.statusCode, bodiless.body).toBe(201);
    expect(bodiless.json()).toMatchObject({ object: 'api_key', name: null, status: 'active' });
  });

  it('pages the list newest first with starting_after', async () => {
    const merchant = await stack.merchant();
    const made = [await create(merchant.apiKey, 'one'), await create(merchant.apiKey, 'two')];
    const call = client(merchant.apiKey);
    const first = (await call('GET', '/v1/api_keys?limit=2')).json<{ data: PublicApiKey[]; has_more: boolean }>();
    expect(first.data.map((key) => key.id)).toEqual([made[1]!.id, made[0]!.id]);
    expect(first.has_more).toBe(true);
    const rest = (await call('GET', `/v1/api_keys?limit=2&starting_after=${made[0]!.id}`)).json<{
      data: PublicApiKey[];
      has_more: boolean;
    }>();
    expect(rest.data.map((key) => key.name)).toEqual(['default']);
    expect(rest.has_more).toBe(false);
  });

  it('rolls a key: the old one works through its window, then answers 401; the new one works', async () => {
    const merchant = await stack.merchant();
    const [original] = await list(merchant.apiKey);
    const rolled = await client(merchant.apiKey)('POST', `/v1/api_keys/${original!.id}/roll`, {
      expires_in_seconds: 1,
    });
    expect(rolled.statusCode, rolled.body).toBe(200);
    const fresh = rolled.json<PublicApiKey & { secret: string }>();
    expect(fresh).toMatchObject({ object: 'api_key', name: 'default', status: 'active', expires_at: null });
    expect(fresh.secret).toMatch(/^sk_test_[0-9A-Za-z]{32}$/);
    expect(fresh.id).not.toBe(original!.id);

    // Within the window both keys work; the old one shows when it stops and what replaced it.
    expect(await statusWith(merchant.apiKey)).toBe(200);
    expect(await statusWith(fresh.secret)).toBe(200);
    const old = (await list(fresh.secret)).find((key) => key.id === original!.id);
    expect(old).toMatchObject({ status: 'active', rolled_to: fresh.id, expires_at: expect.any(String) });
    const windowMs = Date.parse(old!.expires_at!) - Date.now();
    expect(windowMs).toBeLessThanOrEqual(1_000);

    await expect.poll(() => statusWith(merchant.apiKey), { interval: 100, timeout: 5_000 }).toBe(401);
    const refused = await client(merchant.apiKey)('GET', '/v1/api_keys');
    expect(refused.json()).toEqual(invalid('This API key is expired.'));
    expect(await statusWith(fresh.secret)).toBe(200);
    expect((await list(fresh.secret)).find((key) => key.id === original!.id)?.status).toBe('expired');
  });

  it('rolls with expires_in_seconds 0: the old key stops at once; 24 hours when absent', async () => {
    const merchant = await stack.merchant();
    const [original] = await list(merchant.apiKey);
    const rolled = await client(merchant.apiKey)('POST', `/v1/api_keys/${original!.id}/roll`, {
      expires_in_seconds: 0,
    });
    expect(rolled.statusCode, rolled.body).toBe(200);
    const fresh = rolled.json<{ secret: string; id: string }>();
    expect(await statusWith(merchant.apiKey)).toBe(401);
    expect(await statusWith(fresh.secret)).toBe(200);

    const before = Date.now();
    // No body at all, as `curl -X POST …/roll` sends it.
    const again = await stack.app.inject({
      method: 'POST',
      url: `/v1/api_keys/${fresh.id}/roll`,
      headers: bearer(fresh.secret),
    });
    expect(again.statusCode, again.body).toBe(200);
    const previous = (await list(again.json<{ secret: string }>().secret)).find((key) => key.id === fresh.id);
    const windowMs = Date.parse(previous!.expires_at!) - before;
    expect(windowMs).toBeGreaterThanOrEqual(24 * 3_600_000 - 1_000);
    expect(windowMs).toBeLessThanOrEqual(24 * 3_600_000 + 5_000);
    // Both keys work for the day.
    expect(await statusWith(fresh.secret)).toBe(200);
  });

  it('refuses to roll a key that is revoked, expired or already rolled, and bounds the window', async () => {
    const merchant = await stack.merchant();
    const call = client(merchant.apiKey);
    const spare = await create(merchant.apiKey, 'spare');
    const rolled = await call('POST', `/v1/api_keys/${spare.id}/roll`, { expires_in_seconds: 60 });
    expect(rolled.statusCode).toBe(200);
    const again = await call('POST', `/v1/api_keys/${spare.id}/roll`, { expires_in_seconds: 60 });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'api_key_unexpected_state',
        message: 'This API key cannot be rolled: it is already rolled; it expires at its expires_at.',
        param: 'id',
      },
    });
    const other = await create(merchant.apiKey, 'other');
    expect((await call('DELETE', `/v1/api_keys/${other.id}`)).statusCode).toBe(200);
    const revokedRoll = await call('POST', `/v1/api_keys/${other.id}/roll`, {});
    expect(revokedRoll.statusCode).toBe(409);
    expect(revokedRoll.json().error.message).toBe('This API key cannot be rolled: it is revoked.');

    for (const expires of [-1, 604_801, 1.5, '60']) {
      const response = await call('POST', `/v1/api_keys/${other.id}/roll`, { expires_in_seconds: expires });
      expect([expires, response.statusCode]).toEqual([expires, 400]);
      expect(response.json().error).toMatchObject({ code: 'parameter_invalid' });
    }
    const unknownField = await call('POST', '/v1/api_keys', { name: 'x', scope: 'all' });
    expect(unknownField.statusCode).toBe(400);
    expect((await call('POST', '/v1/api_keys', { name: '' })).statusCode).toBe(400);
    expect((await call('POST', '/v1/api_keys', { name: 'x'.repeat(101) })).statusCode).toBe(400);
  });

  it('revokes a key at once, even the one making the request, but never the last one without an expiry', async () => {
    const merchant = await stack.merchant();
    const [original] = await list(merchant.apiKey);
    const call = client(merchant.apiKey);

    const last = await call('DELETE', `/v1/api_keys/${original!.id}`);
    expect(last.statusCode).toBe(409);
    expect(last.json()).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'api_key_unexpected_state',
        message: "This is the merchant's last active API key without an expiry: create or roll one before revoking it.",
        param: 'id',
      },
    });
    expect(await statusWith(merchant.apiKey)).toBe(200);

    const second = await create(merchant.apiKey, 'second');
    // The request's own key, revoked by itself: allowed, since `second` remains.
    const revoked = await call('DELETE', `/v1/api_keys/${original!.id}`);
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json()).toMatchObject({ id: original!.id, status: 'revoked', revoked_at: expect.any(String) });
    expect(revoked.body).not.toContain('"secret"');
    expect(await statusWith(merchant.apiKey)).toBe(401);
    expect((await call('GET', '/v1/api_keys')).json()).toEqual(invalid('This API key is revoked.'));

    // Revoking it again answers it unchanged (and writes no second event).
    const again = await client(second.secret)('DELETE', `/v1/api_keys/${original!.id}`);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(revoked.json());
    expect((await keyEvents(second.secret)).filter((event) => event.type === 'api_key.revoked')).toHaveLength(1);

    // A key in its grace window does not count as one that stays: `second` is the last.
    const rolled = await client(second.secret)('POST', `/v1/api_keys/${second.id}/roll`, { expires_in_seconds: 600 });
    const third = rolled.json<{ id: string; secret: string }>();
    expect((await client(third.secret)('DELETE', `/v1/api_keys/${third.id}`)).statusCode).toBe(409);
    expect((await client(third.secret)('DELETE', `/v1/api_keys/${second.id}`)).statusCode).toBe(200);
    expect(await statusWith(second.secret)).toBe(401);
    expect(await statusWith(third.secret)).toBe(200);
  });

  it('lets only one of two concurrent revocations of the last two keys through', async () => {
    const merchant = await stack.merchant();
    const [original] = await list(merchant.apiKey);
    const other = await create(merchant.apiKey, 'other');
    const answers = await Promise.all([
      client(other.secret)('DELETE', `/v1/api_keys/${original!.id}`),
      client(merchant.apiKey)('DELETE', `/v1/api_keys/${other.id}`),
    ]);
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([200, 409]);
    expect(
      await stack.prisma.apiKey.count({ where: { merchantId: merchant.id, revokedAt: null, expiresAt: null } }),
    ).toBe(1);
  });

  it(`caps a merchant at ${maxActiveApiKeysPerMerchant} active keys`, async () => {
    const merchant = await stack.merchant();
    const made: string[] = [];
    for (let i = 1; i < maxActiveApiKeysPerMerchant; i++) made.push((await create(merchant.apiKey, `k${i}`)).id);
    const over = await client(merchant.apiKey)('POST', '/v1/api_keys', {});
    expect(over.statusCode).toBe(400);
    expect(over.json()).toEqual({
      error: {
        type: 'invalid_request_error',
        code: 'api_key_limit_reached',
        message: `A merchant can have at most ${maxActiveApiKeysPerMerchant} active API keys; revoke one before adding another.`,
      },
    });
    // A roll with a window would make one more active key; with none, it replaces one.
    const rollKept = await client(merchant.apiKey)('POST', `/v1/api_keys/${made[0]}/roll`, { expires_in_seconds: 60 });
    expect(rollKept.json().error.code).toBe('api_key_limit_reached');
    const rollNow = await client(merchant.apiKey)('POST', `/v1/api_keys/${made[0]}/roll`, { expires_in_seconds: 0 });
    expect(rollNow.statusCode).toBe(200);
    expect((await client(merchant.apiKey)('DELETE', `/v1/api_keys/${made[1]}`)).statusCode).toBe(200);
    expect((await create(merchant.apiKey, 'again')).status).toBe('active');
  });

  it("keeps merchants apart: another merchant's key is invisible and untouchable (404)", async () => {
    const a = await stack.merchant();
    const b = await stack.merchant();
    const aKey = await create(a.apiKey, 'a-only');
    const aIds = (await list(a.apiKey)).map((key) => key.id);
    const bList = await client(b.apiKey)('GET', '/v1/api_keys?limit=100');
    for (const id of aIds) expect(bList.body).not.toContain(id);
    expect(bList.json<{ data: PublicApiKey[] }>().data.map((key) => key.name)).toEqual(['default']);

    const missing = (id: string) => ({
      error: {
        type: 'invalid_request_error',
        code: 'resource_missing',
        message: `No such API key: '${id}'.`,
        param: 'id',
      },
    });
    for (const id of [aKey.id, 'ak_doesnotexist']) {
      const roll = await client(b.apiKey)('POST', `/v1/api_keys/${id}/roll`, { expires_in_seconds: 0 });
      expect([id, roll.statusCode]).toEqual([id, 404]);
      expect(roll.json()).toEqual(missing(id));
      const revoke = await client(b.apiKey)('DELETE', `/v1/api_keys/${id}`);
      expect([id, revoke.statusCode]).toEqual([id, 404]);
      expect(revoke.json()).toEqual(missing(id));
    }
    for (const id of aIds) {
      const read = await client(b.apiKey)('GET', `/v1/api_keys/${id}`);
      expect([id, read.statusCode]).toEqual([id, 404]);
      expect(read.json()).toEqual(missing(id));
      expect((await client(a.apiKey)('GET', `/v1/api_keys/${id}`)).statusCode).toBe(200);
    }
    const paged = await client(b.apiKey)('GET', `/v1/api_keys?starting_after=${aKey.id}`);
    expect(paged.statusCode).toBe(404);
    expect(paged.json().error).toMatchObject({ code: 'resource_missing', param: 'starting_after' });

    // A's key is as it was, and B's attempts are not in A's audit.
    expect(await statusWith(aKey.secret)).toBe(200);
    expect((await list(a.apiKey)).find((key) => key.id === aKey.id)).toMatchObject({ status: 'active' });
    expect((await keyEvents(a.apiKey)).map((event) => event.type)).toEqual(['api_key.created']);
    expect(await keyEvents(b.apiKey)).toEqual([]);
  });

  it('records last use at most once a minute per key', async () => {
    const merchant = await stack.merchant();
    const created = await create(merchant.apiKey, 'watched');
    const stored = () => stack.prisma.apiKey.findUniqueOrThrow({ where: { id: created.id } });
    expect((await stored()).lastUsedAt).toBeNull();

    const before = Date.now();
    expect(await statusWith(created.secret)).toBe(200);
    const first = (await stored()).lastUsedAt;
    expect(first!.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(first!.getTime()).toBeLessThanOrEqual(Date.now());
    const listed = (await list(created.secret)).find((key) => key.id === created.id);
    expect(listed!.last_used_at).toBe(first!.toISOString());

    // Within the interval: no write.
    expect(await statusWith(created.secret)).toBe(200);
    expect((await stored()).lastUsedAt).toEqual(first);

    // Older than the interval: written again.
    const stale = new Date(Date.now() - apiKeyLastUsedWriteIntervalMs - 1_000);
    await stack.prisma.apiKey.update({ where: { id: created.id }, data: { lastUsedAt: stale } });
    const again = Date.now();
    expect(await statusWith(created.secret)).toBe(200);
    expect((await stored()).lastUsedAt!.getTime()).toBeGreaterThanOrEqual(again - 5);
  });

  it('audits every change as an event with the key, never its secret', async () => {
    const merchant = await stack.merchant();
    const [original] = await list(merchant.apiKey);
    const made = await create(merchant.apiKey, 'audited');
    const rolled = await client(merchant.apiKey)('POST', `/v1/api_keys/${made.id}/roll`, { expires_in_seconds: 60 });
    const replacement = rolled.json<{ id: string; secret: string }>();
    expect((await client(merchant.apiKey)('DELETE', `/v1/api_keys/${made.id}`)).statusCode).toBe(200);

    const events = await keyEvents(merchant.apiKey);
    expect(events.map((event) => [event.type, event.data.object.id])).toEqual([
      ['api_key.created', made.id],
      ['api_key.created', replacement.id],
      ['api_key.rolled', made.id],
      ['api_key.revoked', made.id],
    ]);
    const text = JSON.stringify(events);
    for (const secret of [merchant.apiKey, made.secret, replacement.secret]) expect(text).not.toContain(secret);
    for (const event of events) expect(event.data.object).not.toHaveProperty('secret');
    expect(events[2]!.data.object).toMatchObject({ rolled_to: replacement.id, expires_at: expect.any(String) });
    expect(events[3]!.data.object).toMatchObject({ status: 'revoked', revoked_at: expect.any(String) });
    // The shape GET answers, exactly: the key has not changed since its revocation.
    const retrieved = await client(merchant.apiKey)('GET', `/v1/api_keys/${made.id}`);
    expect(retrieved.statusCode).toBe(200);
    expect(events[3]!.data.object).toEqual(retrieved.json());
    expect(retrieved.body).not.toContain('"secret"');
    expect(original!.name).toBe('default');
  });
});
