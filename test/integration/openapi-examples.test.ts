import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';

// "Try it out" in the API reference sends an operation's examples as they are: these are
// sent here the same way, read from the published document, and must succeed.

interface Operation {
  parameters?: { name: string; in: string; example?: unknown }[];
  requestBody?: { content: Record<string, { example?: unknown }> };
}

let stack: Stack;
let merchant: { id: string; apiKey: string };
let document: { paths: Record<string, Record<string, Operation>> };

beforeAll(async () => {
  stack = await startStack('openapi-examples');
  merchant = await stack.merchant();
  document = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(async () => {
  await stack?.close();
});

/** The operation's example request, with the caller's key. */
function exampleRequest(method: string, path: string, apiKey: string) {
  const operation = document.paths[path]![method.toLowerCase()]!;
  const headers: Record<string, string> = { ...bearer(apiKey) };
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in === 'header' && typeof parameter.example === 'string') headers[parameter.name] = parameter.example;
  }
  return {
    method: method as 'POST',
    url: path,
    headers,
    payload: operation.requestBody?.content['application/json']?.example as Record<string, unknown>,
  };
}

describe('the API reference examples', () => {
  it('POST /v1/payments: 1000 USD with tok_visa succeeds, and again with the same key answers the same', async () => {
    const request = exampleRequest('POST', '/v1/payments', merchant.apiKey);
    expect(request.payload).toMatchObject({ amount: 1000, currency: 'USD', source: { token: 'tok_visa' } });
    expect(request.headers['idempotency-key']).toMatch(/\S/);
    const response = await stack.app.inject(request);
    expect(response.statusCode, response.body).toBe(201);
    const payment = response.json();
    expect(payment).toMatchObject({
      object: 'payment',
      status: 'succeeded',
      amount: 1000,
      currency: 'USD',
      amount_captured: 1000,
      fee: 59,
      net_amount: 941,
      source: { type: 'card', brand: 'visa', last4: '4242' },
    });
    // A second "Try it out" replays the first answer rather than charging again.
    const again = await stack.app.inject(request);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(payment.id);
  });

  it('POST /v1/accounts creates the example customer account', async () => {
    const response = await stack.app.inject(exampleRequest('POST', '/v1/accounts', merchant.apiKey));
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ object: 'account', type: 'customer', currency: 'USD', balance: 0 });
  });

  it('POST /v1/merchants creates the example merchant with the admin key', async () => {
    const response = await stack.app.inject(exampleRequest('POST', '/v1/merchants', stack.adminApiKey));
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ object: 'merchant', name: 'Acme' });
  });
});
