import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { systemAccountId } from '../../src/ledger/ledger.ts';

let stack: Stack;
let merchant: { id: string; apiKey: string };
beforeAll(async () => {
  stack = await startStack('deposits');
  merchant = await stack.merchant();
});
afterAll(async () => stack?.close());

async function openAccount(currency = 'USD'): Promise<string> {
  const response = await stack.app.inject({
    method: 'POST',
    url: '/v1/accounts',
    headers: bearer(merchant.apiKey),
    payload: { type: 'customer', currency, reference: 'cust_42' },
  });
  expect(response.statusCode).toBe(201);
  return response.json<{ id: string }>().id;
}

function deposit(accountId: string, key: string, payload: object) {
  return stack.app.inject({
    method: 'POST',
    url: `/v1/accounts/${accountId}/deposits`,
    headers: { ...bearer(merchant.apiKey), 'idempotency-key': key },
    payload,
  });
}

async function workflowRuns(workflowId: string): Promise<number> {
  let runs = 0;
  for await (const _ of stack.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs++;
  return runs;
}

describe('accounts', () => {
  it('opens an account with zero balances in integer minor units', async () => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: bearer(merchant.apiKey),
      payload: { type: 'merchant', currency: 'EUR' },
    });
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({
      object: 'account',
      type: 'merchant',
      currency: 'EUR',
      balance: 0,
      available: 0,
      held: 0,
      reference: null,
    });
    expect(body.id).toMatch(/^acct_/);
  });

  it.each([
    [{ type: 'customer', currency: 'USD', colour: 'red' }, 'parameter_unknown', 'colour'],
    [{ type: 'customer', currency: 'usd' }, 'parameter_invalid', 'currency'],
    [{ type: 'customer', currency: 'ABC' }, 'parameter_invalid', 'currency'],
    [{ type: 'platform_fees', currency: 'USD' }, 'parameter_invalid', 'type'],
    [{ currency: 'USD' }, 'parameter_missing', 'type'],
  ])('rejects %j with 400 %s on %s', async (payload, code, param) => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: bearer(merchant.apiKey),
      payload,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ type: 'invalid_request_error', code, param });
  });
});

describe('deposits', () => {
  it('credits the account through the ledger and updates the balance', async () => {
    const accountId = await openAccount();
    const first = await deposit(accountId, 'dep-a', { amount: 1050, reference: 'wire 1' });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      object: 'deposit',
      account_id: accountId,
      amount: 1050,
      currency: 'USD',
      status: 'succeeded',
    });
    const second = await deposit(accountId, 'dep-b', { amount: 250, reference: 'wire 2' });
    expect(second.statusCode).toBe(201);

    const account = await stack.app.inject({
      method: 'GET',
      url: `/v1/accounts/${accountId}`,
      headers: bearer(merchant.apiKey),
    });
    expect(account.json()).toMatchObject({ balance: 1300, available: 1300, held: 0 });

    const entries = await stack.prisma.ledgerEntry.findMany({ where: { accountId }, orderBy: { sequence: 'asc' } });
    expect(entries.map((entry) => [entry.amount, entry.balanceAfter])).toEqual([
      [1050n, 1050n],
      [250n, 1300n],
    ]);
    // Each deposit is one balanced transaction: the other leg debits external funding.
    for (const entry of entries) {
      const legs = await stack.prisma.ledgerEntry.findMany({ where: { transactionId: entry.transactionId } });
      expect(legs).toHaveLength(2);
      expect(legs.reduce((sum, leg) => sum + leg.amount, 0n)).toBe(0n);
      expect(legs.find((leg) => leg.accountId !== accountId)?.accountId).toBe(
        systemAccountId('external_funding', 'USD'),
      );
    }
  });

  it('refuses a deposit that would take a balance past 2^53 - 1 with 400; the account stays readable', async () => {
    const accountId = await openAccount();
    const max = Number.MAX_SAFE_INTEGER;
    expect((await deposit(accountId, 'dep-max', { amount: max, reference: 'max' })).statusCode).toBe(201);
    const over = await deposit(accountId, 'dep-over', { amount: 1, reference: 'one more' });
    expect(over.statusCode).toBe(400);
    expect(over.json().error).toMatchObject({ code: 'amount_too_large', param: 'amount' });
    const account = await stack.app.inject({
      method: 'GET',
      url: `/v1/accounts/${accountId}`,
      headers: bearer(merchant.apiKey),
    });
    expect(account.statusCode).toBe(200);
    expect(account.json()).toMatchObject({ balance: max, available: max });
  });

  it('holds every stored merchant balance within 2^53 - 1: the range check is validated, not only enforced on writes', async () => {
    const rows = await stack.prisma.$queryRaw<{ convalidated: boolean }[]>`
      SELECT convalidated FROM pg_constraint WHERE conname = 'accounts_balance_range_check'`;
    expect(rows).toEqual([{ convalidated: true }]);
  });

  it('runs 20 concurrent identical requests as one deposit: one entry, one workflow execution', async () => {
    const accountId = await openAccount();
    const key = 'concurrent-20';
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => deposit(accountId, key, { amount: 700, reference: 'dup' })),
    );

    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
    const created = responses.filter((response) => response.statusCode === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((response) => response.json().id)).size).toBe(1);
    for (const response of responses.filter((r) => r.statusCode === 409)) {
      expect(response.json().error).toMatchObject({
        type: 'idempotency_error',
        code: 'idempotency_request_in_progress',
      });
    }

    // Once settled, a retry replays the stored response.
    const replay = await deposit(accountId, key, { amount: 700, reference: 'dup' });
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(created[0]?.json());

    const entries = await stack.prisma.ledgerEntry.findMany({ where: { accountId } });
    expect(entries).toHaveLength(1);
    expect(entries[0]?.amount).toBe(700n);
    expect(await stack.prisma.deposit.count({ where: { accountId } })).toBe(1);
    await expect.poll(() => workflowRuns(`deposit:${merchant.id}:${key}`), { timeout: 10_000 }).toBe(1);

    const account = await stack.prisma.account.findUniqueOrThrow({ where: { id: accountId } });
    expect(account.balance).toBe(700n);
  });

  it('never deposits twice even when the idempotency record is lost: the workflow id dedupes', async () => {
    const accountId = await openAccount();
    const first = await deposit(accountId, 'lost-record', { amount: 300, reference: 'r' });
    expect(first.statusCode).toBe(201);
    await stack.prisma.idempotencyKey.deleteMany({ where: { merchantId: merchant.id, key: 'lost-record' } });

    const retry = await deposit(accountId, 'lost-record', { amount: 300, reference: 'r' });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.json()).toEqual(first.json());
    expect(await stack.prisma.ledgerEntry.count({ where: { accountId } })).toBe(1);
    expect((await stack.prisma.account.findUniqueOrThrow({ where: { id: accountId } })).balance).toBe(300n);
  });

  it('refuses a reused key with other parameters: 422 idempotency_key_reused, nothing moves', async () => {
    const accountId = await openAccount();
    expect((await deposit(accountId, 'reuse', { amount: 100, reference: 'a' })).statusCode).toBe(201);
    const reused = await deposit(accountId, 'reuse', { amount: 101, reference: 'a' });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error).toMatchObject({
      type: 'idempotency_error',
      code: 'idempotency_key_reused',
      param: 'Idempotency-Key',
    });
    expect((await stack.prisma.account.findUniqueOrThrow({ where: { id: accountId } })).balance).toBe(100n);
  });

  it.each([
    [{ amount: 10.5, reference: 'x' }, 'parameter_invalid', 'amount'],
    [{ amount: '100', reference: 'x' }, 'parameter_invalid', 'amount'],
    [{ amount: 0, reference: 'x' }, 'parameter_invalid', 'amount'],
    [{ amount: -5, reference: 'x' }, 'parameter_invalid', 'amount'],
    [{ amount: 9007199254740992, reference: 'x' }, 'parameter_invalid', 'amount'],
    [{ amount: 5 }, 'parameter_missing', 'reference'],
    [{ amount: 5, reference: 'x', currency: 'USD' }, 'parameter_unknown', 'currency'],
  ])('rejects deposit body %j with 400 %s', async (payload, code, param) => {
    const accountId = await openAccount();
    const response = await deposit(accountId, `invalid-${code}-${param}-${JSON.stringify(payload)}`, payload);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ type: 'invalid_request_error', code, param });
    expect(await stack.prisma.ledgerEntry.count({ where: { accountId } })).toBe(0);
  });

  it('needs an Idempotency-Key header', async () => {
    const accountId = await openAccount();
    const response = await stack.app.inject({
      method: 'POST',
      url: `/v1/accounts/${accountId}/deposits`,
      headers: bearer(merchant.apiKey),
      payload: { amount: 5, reference: 'x' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'parameter_missing', param: 'idempotency-key' });
  });

  it('rejects malformed JSON with 400 invalid_json', async () => {
    const accountId = await openAccount();
    const response = await stack.app.inject({
      method: 'POST',
      url: `/v1/accounts/${accountId}/deposits`,
      headers: { ...bearer(merchant.apiKey), 'idempotency-key': 'bad-json', 'content-type': 'application/json' },
      payload: '{"amount": 5,',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
  });
});
