import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { stripeSignatureHeader } from '../../src/providers/webhook-signatures.ts';

// Text PostgreSQL cannot store (NUL, lone UTF-16 surrogates) and absurd nesting are a client's
// mistake: 400 parameter_invalid naming the parameter, before anything is written or started,
// never a 500 and never a 202 for a payment that could not succeed.

let stack: Stack;
let auth: { authorization: string };
let merchantId: string;

beforeAll(async () => {
  stack = await startStack('hostile-text', { webhookSecretsStripe: ['whsec_hostile'] });
  const merchant = await stack.merchant();
  auth = bearer(merchant.apiKey);
  merchantId = merchant.id;
});
afterAll(async () => stack?.close());

async function expectRefused(response: { statusCode: number; json: () => unknown }, param?: string) {
  expect(response.statusCode).toBe(400);
  expect((response.json() as { error: unknown }).error).toMatchObject({
    type: 'invalid_request_error',
    code: 'parameter_invalid',
    ...(param ? { param } : {}),
  });
}

describe('unstorable text', () => {
  it('refuses NUL and lone surrogates in bodies, metadata keys, paths and queries', async () => {
    const post = (url: string, payload: string, key?: string) =>
      stack.app.inject({
        method: 'POST',
        url,
        headers: { ...auth, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
        payload,
      });
    await expectRefused(
      await post('/v1/accounts', '{"type":"customer","currency":"USD","reference":"a\\u0000b"}'),
      'reference',
    );
    const account = (await post('/v1/accounts', '{"type":"customer","currency":"USD"}')).json<{ id: string }>().id;
    await expectRefused(
      await post(`/v1/accounts/${account}/deposits`, '{"amount":100,"reference":"\\ud800"}', 'nul-1'),
      'reference',
    );
    const payment = (body: string) => post('/v1/payments', body, `nul-${Math.random()}`);
    await expectRefused(
      await payment(
        '{"amount":100,"currency":"USD","source":{"type":"card","token":"tok_visa"},"description":"x\\u0000"}',
      ),
      'description',
    );
    await expectRefused(
      await payment(
        '{"amount":100,"currency":"USD","source":{"type":"card","token":"tok_visa"},"metadata":{"k\\u0000":"v"}}',
      ),
      'metadata',
    );
    const get = (url: string) => stack.app.inject({ method: 'GET', url, headers: auth });
    await expectRefused(await get('/v1/payments/pay_%00x'), 'id');
    await expectRefused(await get('/v1/payments?customer=a%00b'), 'customer');
    await expectRefused(await get('/v1/events?starting_after=a%00b'), 'starting_after');
    // Nothing was written for any of them. (By merchant: descriptions are stored encrypted, and
    // other suites' payments share the database.)
    expect(await stack.prisma.payment.count({ where: { merchantId } })).toBe(0);
  });

  it('refuses signed webhooks whose payload holds NUL, a lone surrogate or nesting 10,000 deep', async () => {
    const send = (body: string) =>
      stack.app.inject({
        method: 'POST',
        url: '/v1/webhooks/stripe',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': stripeSignatureHeader('whsec_hostile', body, Math.floor(Date.now() / 1000)),
        },
        payload: body,
      });
    const event = (object: string) =>
      `{"id":"evt_hostile_${Math.random()}","type":"charge.captured","data":{"object":${object}}}`;
    await expectRefused(await send(event('{"id":"ch_1","note":"a\\u0000"}')));
    await expectRefused(await send(event('{"id":"\\ud800"}')));
    await expectRefused(await send(event(`${'['.repeat(10_000)}${']'.repeat(10_000)}`)));
    expect(await stack.prisma.webhookEvent.count({ where: { externalId: { startsWith: 'evt_hostile_' } } })).toBe(0);
  });
});
