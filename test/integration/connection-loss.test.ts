import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { buildApp } from '../../src/api/build.ts';
import { createPrisma, type PrismaClient } from '../../src/db/prisma.ts';

// A PostgreSQL connection killed in the middle of a request is an outage, not a bug: the API
// answers 503 service_unavailable with Retry-After, and the same request succeeds on retry.
// The request is made to wait on a table lock, its backend is then terminated by an operator's
// pg_terminate_backend: the connection dies mid-query, every time, with no timing luck.

const applicationName = `connection-loss-${randomUUID().slice(0, 8)}`;
const waitForBackendMs = 10_000;

let stack: Stack;
let prisma: PrismaClient;
let app: FastifyInstance;
let operator: pg.Client;

beforeAll(async () => {
  stack = await startStack('connection-loss');
  const url = new URL(inject('databaseUrl'));
  url.searchParams.set('application_name', applicationName);
  // The app under test has connections of its own, named, so only they are terminated.
  prisma = createPrisma(url.toString(), 4);
  app = await buildApp(
    { prisma, temporal: stack.temporal, config: stack.config },
    { logger: false, bodyLimitBytes: stack.config.bodyLimitBytes, requestTimeoutMs: stack.config.requestTimeoutMs },
  );
  // Opens the app's connection now: the request then waits on the lock, not on connecting.
  await prisma.$queryRaw`SELECT 1`;
  operator = new pg.Client({ connectionString: inject('databaseUrl') });
  await operator.connect();
});

afterAll(async () => {
  await app?.close();
  await prisma?.$disconnect();
  await operator?.end();
  await stack?.close();
});

/** Holds `table` locked while `send` runs, terminates our backend waiting on it, and answers what `send` answered. */
async function killedWhileWaiting<T>(table: string, send: () => Promise<T>): Promise<T> {
  await operator.query('BEGIN');
  await operator.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  const answer = send();
  try {
    const deadline = Date.now() + waitForBackendMs;
    for (;;) {
      const { rows } = await operator.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
        [applicationName],
      );
      if (rows.length > 0) {
        await operator.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`no backend of ${applicationName} waited on ${table}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await operator.query('COMMIT');
  }
  return answer;
}

describe('a database connection lost mid-request', () => {
  it('answers 503 service_unavailable with Retry-After, and the retry succeeds on a fresh connection', async () => {
    const merchant = await stack.merchant();
    const read = () => app.inject({ method: 'GET', url: '/v1/payments', headers: bearer(merchant.apiKey) });
    // Authentication reads the api_keys table first: its query is the one that dies.
    const lost = await killedWhileWaiting('api_keys', read);
    expect(lost.statusCode).toBe(503);
    expect(lost.headers['retry-after']).toBe('2');
    expect(lost.json()).toEqual({
      error: {
        type: 'api_error',
        code: 'service_unavailable',
        message: 'The service is briefly unavailable; retry in a moment.',
      },
    });
    const retried = await read();
    expect(retried.statusCode).toBe(200);
  });

  it('keeps a keyed POST safe to retry: 503 first, then exactly one deposit', async () => {
    const merchant = await stack.merchant();
    const auth = bearer(merchant.apiKey);
    const opened = await app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: auth,
      payload: { type: 'customer', currency: 'USD' },
    });
    expect(opened.statusCode).toBe(201);
    const accountId = opened.json<{ id: string }>().id;
    const deposit = () =>
      app.inject({
        method: 'POST',
        url: `/v1/accounts/${accountId}/deposits`,
        headers: { ...auth, 'idempotency-key': 'lost-connection-1' },
        payload: { amount: 1_234, reference: 'wire' },
      });
    // Claiming the Idempotency-Key writes idempotency_keys first: that write dies.
    const lost = await killedWhileWaiting('idempotency_keys', deposit);
    expect(lost.statusCode).toBe(503);
    expect(lost.json().error.code).toBe('service_unavailable');

    const retried = await deposit();
    expect(retried.statusCode).toBe(201);
    expect(retried.json()).toMatchObject({ amount: 1_234, status: 'succeeded' });
    const again = await deposit();
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const account = await app.inject({ method: 'GET', url: `/v1/accounts/${accountId}`, headers: auth });
    expect(account.json()).toMatchObject({ balance: 1_234, available: 1_234 });
    expect(await stack.prisma.deposit.count({ where: { accountId } })).toBe(1);
  });

  it('lets a retry take over a key whose request died holding it (its lock set by the database, in microseconds)', async () => {
    const merchant = await stack.merchant();
    const auth = bearer(merchant.apiKey);
    const opened = await app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: auth,
      payload: { type: 'customer', currency: 'USD' },
    });
    const accountId = opened.json<{ id: string }>().id;
    const deposit = () =>
      app.inject({
        method: 'POST',
        url: `/v1/accounts/${accountId}/deposits`,
        headers: { ...auth, 'idempotency-key': 'died-holding-it' },
        payload: { amount: 700, reference: 'wire' },
      });
    const first = await deposit();
    expect(first.statusCode).toBe(201);
    // As a request leaves its key when the database went away before it could store or release
    // it: locked by the claim's now() (microseconds), long ago, nothing stored.
    await operator.query(
      `UPDATE idempotency_keys SET response_status = NULL, response_body = NULL, completed_at = NULL,
              locked_at = now() - interval '1 hour' - interval '123 microseconds'
        WHERE merchant_id = $1 AND key = 'died-holding-it'`,
      [merchant.id],
    );
    const retried = await deposit();
    expect(retried.statusCode).toBe(201);
    expect(retried.json()).toMatchObject({ id: first.json().id, amount: 700, status: 'succeeded' });
    expect(await stack.prisma.deposit.count({ where: { accountId } })).toBe(1);
  });
});
