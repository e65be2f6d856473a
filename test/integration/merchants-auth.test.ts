import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { hashApiKey } from '../../src/api/auth.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('auth');
});
afterAll(async () => stack?.close());

describe('merchants and API keys', () => {
  it('creates a merchant only with the admin key, shows the key once and stores its hash', async () => {
    const denied = await stack.app.inject({
      method: 'POST',
      url: '/v1/merchants',
      headers: bearer('sk_admin_wrong'),
      payload: {},
    });
    expect(denied.statusCode).toBe(401);
    expect(denied.json()).toEqual({
      error: { type: 'authentication_error', code: 'api_key_invalid', message: 'This route needs the admin API key.' },
    });

    const created = await stack.app.inject({
      method: 'POST',
      url: '/v1/merchants',
      headers: bearer(stack.adminApiKey),
      payload: { name: 'Acme' },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json<{ id: string; api_key: string; name: string; object: string }>();
    expect(body.id).toMatch(/^mer_[0-9A-Za-z]{22}$/);
    expect(body.api_key).toMatch(/^sk_test_[0-9A-Za-z]{32}$/);
    expect(body).toMatchObject({ object: 'merchant', name: 'Acme' });

    const row = await stack.prisma.merchant.findUniqueOrThrow({ where: { id: body.id } });
    expect(JSON.stringify(row)).not.toContain(body.api_key);
    const keys = await stack.prisma.apiKey.findMany({ where: { merchantId: body.id } });
    expect(keys.map((key) => [key.name, key.keyHash, key.keyPrefix])).toEqual([
      ['default', hashApiKey(body.api_key), body.api_key.slice(0, 12)],
    ]);
    expect(JSON.stringify(keys)).not.toContain(body.api_key);
  });

  it('refuses merchant routes without a valid key, in the common error shape', async () => {
    const missing = await stack.app.inject({ method: 'GET', url: '/v1/accounts/acct_x' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error).toMatchObject({ type: 'authentication_error', code: 'api_key_invalid' });

    const wrong = await stack.app.inject({
      method: 'GET',
      url: '/v1/accounts/acct_x',
      headers: bearer('sk_test_nope'),
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toEqual({
      type: 'authentication_error',
      code: 'api_key_invalid',
      message: 'Invalid API key provided.',
    });
  });

  it('refuses a valid key outside its scope with 403 permission_denied: merchant key on admin routes and back', async () => {
    const merchant = await stack.merchant();
    const adminRoutes = [
      { method: 'POST' as const, url: '/v1/merchants', payload: { name: 'Mallory' } },
      { method: 'GET' as const, url: '/v1/ledger/integrity' },
    ];
    for (const route of adminRoutes) {
      const response = await stack.app.inject({ ...route, headers: bearer(merchant.apiKey) });
      expect([route.url, response.statusCode]).toEqual([route.url, 403]);
      expect(response.json()).toEqual({
        error: {
          type: 'permission_error',
          code: 'permission_denied',
          message: 'This API key cannot use this route; it needs the admin API key.',
        },
      });
    }
    for (const url of ['/v1/payments', '/v1/events', '/v1/webhook_endpoints']) {
      const response = await stack.app.inject({ method: 'GET', url, headers: bearer(stack.adminApiKey) });
      expect([url, response.statusCode]).toEqual([url, 403]);
      expect(response.json()).toEqual({
        error: {
          type: 'permission_error',
          code: 'permission_denied',
          message: 'This API key cannot use this route; it needs a merchant API key.',
        },
      });
    }
    // No merchant came of the merchant key's attempt.
    expect(await stack.prisma.merchant.count({ where: { name: 'Mallory' } })).toBe(0);
  });

  it('names every answer with a Request-Id header, the id the log has for it', async () => {
    const lines: string[] = [];
    const { buildApp } = await import('../../src/api/build.ts');
    const { Writable } = await import('node:stream');
    const { createLogger } = await import('../../src/observability/logger.ts');
    const logged = await buildApp(
      { prisma: stack.prisma, temporal: stack.temporal, config: stack.config },
      {
        logger: createLogger('api', {
          level: 'info',
          format: 'json',
          destination: new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }),
        }),
        bodyLimitBytes: stack.config.bodyLimitBytes,
        requestTimeoutMs: stack.config.requestTimeoutMs,
      },
    );
    try {
      const answers = [
        await logged.inject({ method: 'GET', url: '/health' }),
        await logged.inject({ method: 'GET', url: '/v1/accounts/acct_x', headers: bearer('sk_test_nope') }),
        await logged.inject({ method: 'GET', url: '/nowhere' }),
        await logged.inject({ method: 'GET', url: '/v1/payments/%E0%A4%A' }),
      ];
      const ids = answers.map((answer) => answer.headers['request-id']);
      for (const id of ids) expect(id).toMatch(/^req_[0-9a-f-]{36}$/);
      expect(new Set(ids).size).toBe(ids.length);
      const loggedIds = new Set(lines.map((line) => (JSON.parse(line) as { reqId?: string }).reqId));
      for (const id of ids) expect(loggedIds.has(id as string)).toBe(true);
    } finally {
      await logged.close();
    }
  });
  // Tenant isolation of every route family: test/integration/tenant-isolation.test.ts.
});

describe('rate limiting, health and internal errors', () => {
  it('answers 429 rate_limited past the per-key limit', async () => {
    const limited = await startStack('ratelimit', { rateLimitPerSecond: 3 });
    try {
      const merchant = await limited.merchant();
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 5; i++) {
        last = await limited.app.inject({
          method: 'GET',
          url: '/v1/accounts/acct_none',
          headers: bearer(merchant.apiKey),
        });
        statuses.push(last.statusCode);
      }
      expect(statuses).toEqual([404, 404, 404, 429, 429]);
      expect(last?.json().error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
    } finally {
      await limited.close();
    }
  });

  it('limits a key however its header is spelled, and failed keys per client address', async () => {
    const limited = await startStack('ratelimit-spelling', { rateLimitPerSecond: 3, authFailuresPerMinute: 5 });
    try {
      const merchant = await limited.merchant();
      const spellings = ['Bearer ', 'bearer ', 'Bearer  ', 'Bearer\t', 'BEARER '];
      const statuses: number[] = [];
      for (const scheme of spellings) {
        const response = await limited.app.inject({
          method: 'GET',
          url: '/v1/accounts/acct_none',
          headers: { authorization: `${scheme}${merchant.apiKey}` },
        });
        statuses.push(response.statusCode);
      }
      expect(statuses).toEqual([404, 404, 404, 429, 429]);

      const guesses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const response = await limited.app.inject({
          method: 'GET',
          url: '/v1/accounts/acct_none',
          headers: { authorization: `Bearer sk_test_guess${i}` },
        });
        guesses.push(response.statusCode);
      }
      expect(guesses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    } finally {
      await limited.close();
    }
  });

  it('reports liveness and readiness of PostgreSQL and Temporal', async () => {
    const health = await stack.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await stack.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    // The import's figures are informative (test/integration/imports.test.ts checks their values).
    expect(ready.json()).toMatchObject({
      status: 'ok',
      checks: { postgres: 'ok', temporal: 'ok' },
      staging_backlog: {
        pending: expect.any(Number),
        pending_capped: expect.any(Boolean),
        oldest_pending_age_ms: expect.any(Number),
      },
    });
    expect(Object.keys(ready.json()).sort()).toEqual(['checks', 'last_import_run', 'staging_backlog', 'status']);
  });

  it('answers unknown routes with 404 resource_missing', async () => {
    const response = await stack.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toMatchObject({ type: 'invalid_request_error', code: 'resource_missing' });
  });
});

describe('internal errors', () => {
  it('answer 500 internal_error without revealing the cause', async () => {
    const { default: Fastify } = await import('fastify');
    const { registerErrorHandling } = await import('../../src/api/errors.ts');
    const app = Fastify({ logger: false });
    registerErrorHandling(app);
    app.get('/boom', async () => {
      throw new Error('password=hunter2 at /srv/db.ts:42');
    });
    const response = await app.inject({ method: 'GET', url: '/boom' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      error: { type: 'api_error', code: 'internal_error', message: 'An internal error occurred; it has been logged.' },
    });
    expect(response.body).not.toContain('hunter2');
    await app.close();
  });
});

describe('requests refused before any route', () => {
  it('answer 4xx in our error shape: unknown method without a body type, bad URL, over-long parameter', async () => {
    const cases = [
      { method: 'QUERY', url: '/v1/payments' },
      { method: 'QUERY', url: '/nowhere' },
      { method: 'GET', url: '/v1/payments/%E0%A4%A' },
      { method: 'GET', url: `/v1/payments/${'x'.repeat(600)}` },
    ] as const;
    for (const { method, url } of cases) {
      const response = await stack.app.inject({ method: method as never, url });
      expect([method, url.slice(0, 20), response.statusCode]).toEqual([method, url.slice(0, 20), 400]);
      const body = response.json<{ error: { type: string; code: string; message: string } }>();
      expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'parameter_invalid' });
      expect(body.error.message).not.toMatch(/FST_|fastify/i);
    }
  });

  it('answers 431 in our error shape when the headers are too large for Node', async () => {
    const { request } = await import('node:http');
    await stack.app.listen({ host: '127.0.0.1', port: 0 });
    const address = stack.app.server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const sent = request(
        { host: '127.0.0.1', port: address.port, path: '/v1/payments', headers: { 'x-big': 'a'.repeat(20_000) } },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      sent.on('error', reject);
      sent.end();
    });
    expect(answer.status).toBe(431);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: { type: 'invalid_request_error', code: 'parameter_invalid' },
    });
  });
});
