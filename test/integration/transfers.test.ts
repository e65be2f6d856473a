import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';

let stack: Stack;
let merchant: { id: string; apiKey: string };
beforeAll(async () => {
  stack = await startStack('transfers', { rateLimitPerSecond: 10_000, maxTransferAmountMinor: 5_000n });
  merchant = await stack.merchant();
});
afterAll(async () => stack?.close());

let keys = 0;
const key = () => `key-${++keys}`;

async function openAccount(currency = 'USD', apiKey = merchant.apiKey): Promise<string> {
  const response = await stack.app.inject({
    method: 'POST',
    url: '/v1/accounts',
    headers: bearer(apiKey),
    payload: { type: 'customer', currency },
  });
  return response.json<{ id: string }>().id;
}

async function deposit(accountId: string, amount: number): Promise<void> {
  const response = await stack.app.inject({
    method: 'POST',
    url: `/v1/accounts/${accountId}/deposits`,
    headers: { ...bearer(merchant.apiKey), 'idempotency-key': key() },
    payload: { amount, reference: 'funding' },
  });
  expect(response.statusCode).toBe(201);
}

function transfer(payload: object, idempotencyKey = key()) {
  return stack.app.inject({
    method: 'POST',
    url: '/v1/transfers',
    headers: { ...bearer(merchant.apiKey), 'idempotency-key': idempotencyKey },
    payload,
  });
}

async function account(id: string) {
  const response = await stack.app.inject({
    method: 'GET',
    url: `/v1/accounts/${id}`,
    headers: bearer(merchant.apiKey),
  });
  return response.json<{ balance: number; available: number; held: number }>();
}

describe('transfers', () => {
  it('moves money between two accounts as one ledger transaction', async () => {
    const from = await openAccount();
    const to = await openAccount();
    await deposit(from, 1_000);
    const response = await transfer({
      from_account_id: from,
      to_account_id: to,
      amount: 300,
      currency: 'USD',
      description: 'rent',
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({
      object: 'transfer',
      from_account_id: from,
      to_account_id: to,
      amount: 300,
      currency: 'USD',
      description: 'rent',
      status: 'succeeded',
      failure_code: null,
    });
    expect(body.id).toMatch(/^tr_/);
    expect(await account(from)).toMatchObject({ balance: 700, available: 700, held: 0 });
    expect(await account(to)).toMatchObject({ balance: 300, available: 300, held: 0 });

    const fetched = await stack.app.inject({
      method: 'GET',
      url: `/v1/transfers/${body.id}`,
      headers: bearer(merchant.apiKey),
    });
    expect(fetched.json()).toEqual(body);
    const legs = await stack.prisma.ledgerEntry.findMany({ where: { transactionId: body.transaction_id } });
    expect(legs.map((leg) => [leg.accountId, leg.amount]).sort()).toEqual(
      [
        [from, -300n],
        [to, 300n],
      ].sort(),
    );
    const hold = await stack.prisma.hold.findUniqueOrThrow({ where: { reference: body.id } });
    expect([hold.status, hold.capturedAmount]).toEqual(['captured', 300n]);
  });

  it('fails with insufficient_funds and moves nothing', async () => {
    const from = await openAccount();
    const to = await openAccount();
    await deposit(from, 100);
    const response = await transfer({ from_account_id: from, to_account_id: to, amount: 101, currency: 'USD' });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({
      status: 'failed',
      failure_code: 'insufficient_funds',
      transaction_id: null,
    });
    expect(await account(from)).toMatchObject({ balance: 100, available: 100, held: 0 });
    expect(await account(to)).toMatchObject({ balance: 0 });
  });

  it('releases the hold when the risk check blocks the transfer (compensation)', async () => {
    const from = await openAccount();
    const to = await openAccount();
    await deposit(from, 9_000);
    const response = await transfer({ from_account_id: from, to_account_id: to, amount: 5_001, currency: 'USD' });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({ status: 'failed', failure_code: 'transfer_blocked', transaction_id: null });
    const hold = await stack.prisma.hold.findUniqueOrThrow({ where: { reference: body.id } });
    expect(hold.status).toBe('released');
    expect(await account(from)).toMatchObject({ balance: 9_000, available: 9_000, held: 0 });
    expect(await account(to)).toMatchObject({ balance: 0 });
  });

  it('lets exactly 25 of 40 concurrent 1-unit transfers out of 25 succeed', async () => {
    const from = await openAccount();
    const to = await openAccount();
    await deposit(from, 25);
    const responses = await Promise.all(
      Array.from({ length: 40 }, () =>
        transfer({ from_account_id: from, to_account_id: to, amount: 1, currency: 'USD' }),
      ),
    );
    const outcomes = responses.map(
      (response) => `${response.statusCode} ${response.json().status} ${response.json().failure_code}`,
    );
    expect(outcomes.filter((o) => o === '201 succeeded null')).toHaveLength(25);
    expect(outcomes.filter((o) => o === '201 failed insufficient_funds')).toHaveLength(15);
    expect(await account(from)).toMatchObject({ balance: 0, held: 0 });
    expect(await account(to)).toMatchObject({ balance: 25 });
  });

  it('replays a retried transfer and refuses the key with other parameters', async () => {
    const from = await openAccount();
    const to = await openAccount();
    await deposit(from, 50);
    const payload = { from_account_id: from, to_account_id: to, amount: 20, currency: 'USD' };
    const first = await transfer(payload, 'same-transfer');
    const again = await transfer(payload, 'same-transfer');
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const other = await transfer({ ...payload, amount: 21 }, 'same-transfer');
    expect(other.statusCode).toBe(422);
    expect(await account(from)).toMatchObject({ balance: 30 });
  });

  it.each([
    [
      'the same account twice',
      (a: string) => ({ from_account_id: a, to_account_id: a, amount: 1, currency: 'USD' }),
      400,
      'parameter_invalid',
    ],
    [
      'a currency other than the accounts',
      (a: string, b: string) => ({ from_account_id: a, to_account_id: b, amount: 1, currency: 'EUR' }),
      400,
      'currency_mismatch',
    ],
  ])('refuses %s', async (_name, build, status, code) => {
    const a = await openAccount();
    const b = await openAccount();
    const response = await transfer(build(a, b));
    expect(response.statusCode).toBe(status);
    expect(response.json().error.code).toBe(code);
  });

  it("cannot touch another merchant's account", async () => {
    const other = await stack.merchant();
    const theirs = await openAccount('USD', other.apiKey);
    const mine = await openAccount();
    await deposit(mine, 10);
    for (const payload of [
      { from_account_id: theirs, to_account_id: mine, amount: 1, currency: 'USD' },
      { from_account_id: mine, to_account_id: theirs, amount: 1, currency: 'USD' },
    ]) {
      const response = await transfer(payload);
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('resource_missing');
    }
    expect(await account(mine)).toMatchObject({ balance: 10 });
  });
});

describe('balances over time and the entry list', () => {
  it('answers the balance at an instant and pages entries newest first', async () => {
    const id = await openAccount();
    await deposit(id, 100);
    const between = new Date().toISOString();
    await deposit(id, 40);
    await deposit(id, 2);

    const get = (url: string) => stack.app.inject({ method: 'GET', url, headers: bearer(merchant.apiKey) });
    expect((await get(`/v1/accounts/${id}/balance?at=${encodeURIComponent(between)}`)).json()).toMatchObject({
      object: 'balance',
      balance: 100,
      at: between,
    });
    expect((await get(`/v1/accounts/${id}/balance?at=2000-01-01T00:00:00Z`)).json()).toMatchObject({ balance: 0 });
    expect((await get(`/v1/accounts/${id}/balance`)).json()).toMatchObject({ balance: 142, available: 142, held: 0 });
    const invalid = await get(`/v1/accounts/${id}/balance?at=yesterday`);
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error).toMatchObject({ code: 'parameter_invalid', param: 'at' });
    // A leap second passes the date-time format but is no instant Date can hold: 400, not 500.
    const leap = await get(`/v1/accounts/${id}/balance?at=2026-06-30T23:59:60Z`);
    expect(leap.statusCode).toBe(400);
    expect(leap.json().error).toMatchObject({ code: 'parameter_invalid', param: 'at' });
    const listed = await get(`/v1/payments?created[gte]=2026-06-30T23:59:60Z`);
    expect(listed.statusCode).toBe(400);
    expect(listed.json().error).toMatchObject({ code: 'parameter_invalid', param: 'created[gte]' });

    const page1 = (await get(`/v1/accounts/${id}/entries?limit=2`)).json();
    expect(page1.has_more).toBe(true);
    expect(
      page1.data.map((e: { amount: number; balance_after: number; kind: string }) => [
        e.amount,
        e.balance_after,
        e.kind,
      ]),
    ).toEqual([
      [2, 142, 'deposit'],
      [40, 140, 'deposit'],
    ]);
    const page2 = (await get(`/v1/accounts/${id}/entries?limit=2&starting_after=${page1.data[1].id}`)).json();
    expect(page2).toMatchObject({ has_more: false, data: [{ amount: 100, balance_after: 100 }] });
    expect((await get(`/v1/accounts/${id}/entries?limit=101`)).statusCode).toBe(400);
  });
});

describe('ledger integrity', () => {
  it('is admin-only and reports healthy books after this suite', async () => {
    const denied = await stack.app.inject({
      method: 'GET',
      url: '/v1/ledger/integrity',
      headers: bearer(merchant.apiKey),
    });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe('permission_denied');
    const report = await stack.app.inject({
      method: 'GET',
      url: '/v1/ledger/integrity',
      headers: bearer(stack.adminApiKey),
    });
    expect(report.statusCode).toBe(200);
    expect(report.json()).toMatchObject({ object: 'ledger_integrity', healthy: true, discrepancies: [] });
  });
});
