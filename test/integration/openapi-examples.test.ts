import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { operations, type Access } from '../../src/api/openapi/operations.ts';

// "Try it out" in the API reference sends an operation's examples as they are: these are
// sent here the same way, read from the published document, against a stack seeded as
// `npm start` seeds it (nothing but the admin key: the merchant comes from the POST
// /v1/merchants example). Every example must succeed as it is; one that names an id (the
// caller's own, unknown in advance) or has a "Try it out" note must say so, and succeed once
// the id is filled in and the note's step is done.

interface Parameter {
  name: string;
  in: string;
  example?: unknown;
  description?: string;
}
interface Operation {
  operationId: string;
  description: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { example?: unknown }> };
}

/** What a caller changes before sending: the ids it fills in, a body it edits, a key of its own. */
interface Filled {
  ids?: Record<string, string>;
  body?: Record<string, unknown>;
  idempotencyKey?: string;
}

let stack: Stack;
let merchant: { id: string; apiKey: string };
let document: { paths: Record<string, Record<string, Operation>> };
/** The operations whose example was sent and succeeded, as `METHOD /path`. */
const succeeded = new Set<string>();
const poll = { timeout: 20_000, interval: 200 };

beforeAll(async () => {
  // Payments settle a second after capture, as the POST /v1/payouts note suggests for a demo.
  stack = await startStack('openapi-examples', { settlementDelayMs: 1_000 });
  document = (await stack.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  const created = await send('POST /v1/merchants');
  expect(created).toMatchObject({ object: 'merchant', name: 'Acme' });
  merchant = { id: created.id, apiKey: created.api_key };
  // The stack's relay and event publisher follow this merchant too.
  (stack.merchantIds as string[]).push(merchant.id);
});
afterAll(async () => {
  await stack?.close();
});

function operationAt(key: string): Operation {
  const [method, path] = key.split(' ') as [string, string];
  const operation = document.paths[path]?.[method.toLowerCase()];
  expect(operation, key).toBeDefined();
  return operation!;
}

function keyFor(access: Access): Record<string, string> {
  if (access === 'admin') return bearer(stack.adminApiKey);
  if (access === 'merchant') return bearer(merchant.apiKey);
  return {};
}

/** The operation's example request as "Try it out" sends it, with what the caller filled in. */
function exampleRequest(key: string, filled: Filled = {}) {
  const [method, path] = key.split(' ') as [string, string];
  const operation = operationAt(key);
  const headers: Record<string, string> = { ...keyFor(operations[key]!.access) };
  let url = path;
  const query = new URLSearchParams();
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in === 'path') {
      const value = filled.ids?.[parameter.name] ?? parameter.example;
      expect(value, `${key}: ${parameter.name}`).toBeTypeOf('string');
      url = url.replace(`{${parameter.name}}`, encodeURIComponent(value as string));
    } else if (parameter.in === 'query' && parameter.example !== undefined) {
      query.set(parameter.name, String(parameter.example));
    } else if (parameter.in === 'header' && typeof parameter.example === 'string') {
      headers[parameter.name] = parameter.example;
    }
  }
  if (filled.idempotencyKey) headers['idempotency-key'] = filled.idempotencyKey;
  const example = operation.requestBody?.content['application/json']?.example as Record<string, unknown> | undefined;
  return {
    method: method as 'POST',
    url: query.size > 0 ? `${url}?${query}` : url,
    headers,
    payload: filled.body ?? example,
  };
}

/** Sends the example and expects one of the success statuses the operation documents; its answer. */
async function send(key: string, filled: Filled = {}) {
  const response = await stack.app.inject(exampleRequest(key, filled));
  const statuses = Object.keys(operations[key]!.success).map(Number);
  const answer = `${key} answered ${response.statusCode}: ${response.body}`;
  // GET /ready documents its 503 too: a success here is a 2xx the operation documents.
  expect(statuses, answer).toContain(response.statusCode);
  expect(response.statusCode, answer).toBeLessThan(300);
  succeeded.add(key);
  return response.json();
}

/**
 * Sends the example until it succeeds: what the answer of an asynchronous start names is
 * readable once its workflow has recorded it, a moment later.
 */
async function sendWhenRecorded(key: string, filled: Filled) {
  await expect.poll(async () => (await stack.app.inject(exampleRequest(key, filled))).statusCode, poll).toBe(200);
  return send(key, filled);
}

/** The example's body with some fields changed, as a caller edits it in the UI. */
function editedBody(key: string, changes: Record<string, unknown>): Record<string, unknown> {
  const example = operationAt(key).requestBody?.content['application/json']?.example;
  expect(example, key).toBeTypeOf('object');
  return { ...(example as Record<string, unknown>), ...changes };
}

function needsOf(key: string): { ids: string[]; note: string | undefined } {
  const doc = operations[key]!;
  return { ids: Object.keys(doc.example?.ids ?? {}), note: doc.tryItOut };
}

describe('the API reference examples', () => {
  it('POST /v1/payments: 1000 USD with tok_visa succeeds, and again with the same key answers the same', async () => {
    const request = exampleRequest('POST /v1/payments');
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
    const response = await stack.app.inject(exampleRequest('POST /v1/accounts'));
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ object: 'account', type: 'customer', currency: 'USD', balance: 0 });
  });

  it('every example that needs nothing of the caller succeeds as it is, twice', async () => {
    const runnable = Object.keys(operations).filter((key) => {
      const needs = needsOf(key);
      return needs.ids.length === 0 && needs.note === undefined;
    });
    expect(runnable.length).toBeGreaterThanOrEqual(20);
    for (const key of runnable) {
      // A second "Try it out" succeeds too: the same Idempotency-Key replays, reads read again.
      await send(key);
      await send(key);
    }
  });

  it('every example that needs something says what, in the description and at each id', () => {
    for (const [key, doc] of Object.entries(operations)) {
      const { ids, note } = needsOf(key);
      if (ids.length === 0 && note === undefined) continue;
      const operation = operationAt(key);
      expect(operation.description, key).toContain('**Try it out:**');
      if (note) expect(operation.description, key).toContain(note);
      for (const name of ids) {
        const parameter = operation.parameters?.find((item) => item.in === 'path' && item.name === name);
        // No made-up id to send: the field starts empty, its description says where to get one.
        expect(parameter?.example, `${key} ${name}`).toBeUndefined();
        expect(parameter?.description, `${key} ${name}`).toBe(doc.example!.ids![name]);
        expect(operation.description, key).toContain(`Fill in \`${name}\``);
      }
    }
  });
});

describe('the examples with their ids filled in and their notes followed', () => {
  it('succeed for payments and refunds', async () => {
    const paid = await send('POST /v1/payments');
    for (const key of ['GET /v1/payments/{id}', 'GET /v1/payments/{id}/events', 'GET /v1/payments/{id}/ledger']) {
      await send(key, { ids: { id: paid.id } });
    }
    const refund = await send('POST /v1/payments/{id}/refunds', { ids: { id: paid.id } });
    expect(refund).toMatchObject({ object: 'refund', amount: 500, status: 'succeeded' });
    await send('GET /v1/refunds/{id}', { ids: { id: refund.id } });
    await send('GET /v1/payments/{id}/refunds', { ids: { id: paid.id } });
    expect(await send('POST /v1/payments/{id}', { ids: { id: paid.id } })).toMatchObject({
      id: paid.id,
      metadata: { order_id: '1001' },
    });

    // The notes: a manual payment to capture or cancel, one in review to approve or reject.
    const another = (name: string, changes: Record<string, unknown>) =>
      send('POST /v1/payments', { body: editedBody('POST /v1/payments', changes), idempotencyKey: name });
    const toCapture = await another('to-capture', { capture_method: 'manual' });
    expect(toCapture.status).toBe('requires_capture');
    expect(await send('POST /v1/payments/{id}/capture', { ids: { id: toCapture.id } })).toMatchObject({
      status: 'succeeded',
      amount_captured: 1000,
    });
    const toCancel = await another('to-cancel', { capture_method: 'manual' });
    expect(await send('POST /v1/payments/{id}/cancel', { ids: { id: toCancel.id } })).toMatchObject({
      status: 'canceled',
    });
    const toApprove = await another('to-approve', { amount: 500_000 });
    expect(toApprove.status).toBe('requires_review');
    expect(await send('POST /v1/payments/{id}/approve', { ids: { id: toApprove.id } })).toMatchObject({
      status: 'succeeded',
    });
    const toReject = await another('to-reject', { amount: 500_000 });
    expect(await send('POST /v1/payments/{id}/reject', { ids: { id: toReject.id } })).toMatchObject({
      status: 'canceled',
    });
  });

  it('succeed for accounts, deposits, transfers and payment records', async () => {
    const account = await send('POST /v1/accounts');
    for (const key of ['GET /v1/accounts/{id}', 'GET /v1/accounts/{id}/balance', 'GET /v1/accounts/{id}/entries']) {
      await send(key, { ids: { id: account.id } });
    }
    expect(await send('POST /v1/accounts/{id}', { ids: { id: account.id } })).toMatchObject({
      metadata: { tier: 'gold' },
    });
    const deposit = await send('POST /v1/accounts/{id}/deposits', { ids: { id: account.id } });
    expect(deposit).toMatchObject({ amount: 1050 });
    await send('GET /v1/deposits/{id}', { ids: { id: deposit.id } });

    const destination = await send('POST /v1/accounts', { idempotencyKey: 'destination' });
    const transfer = await send('POST /v1/transfers', {
      body: editedBody('POST /v1/transfers', { from_account_id: account.id, to_account_id: destination.id }),
    });
    expect(transfer).toMatchObject({ status: 'succeeded', amount: 1000 });
    await send('GET /v1/transfers/{id}', { ids: { id: transfer.id } });

    await send('POST /v1/accounts', {
      body: editedBody('POST /v1/accounts', { external_reference: 'LOAN-1001' }),
      idempotencyKey: 'loan-account',
    });
    const record = await send('POST /v1/payment_records');
    await sendWhenRecorded('GET /v1/payment_records/{id}', { ids: { id: record.id } });
  });

  it('succeed for events and webhook endpoints', async () => {
    const events = await send('GET /v1/events');
    const eventId = (events.data as { id: string }[])[0]?.id;
    expect(eventId).toMatch(/^evt_/);
    await send('GET /v1/events/{id}', { ids: { id: eventId! } });
    await send('POST /v1/events/{id}/redeliver', { ids: { id: eventId! } });

    // A test event is really sent: to an endpoint of the caller's on this machine (the example's
    // URL is not one), whose receiver answers 204.
    const receiver = createServer((_request, response) => response.writeHead(204).end());
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as AddressInfo;
      const local = await send('POST /v1/webhook_endpoints', {
        body: editedBody('POST /v1/webhook_endpoints', { url: `http://127.0.0.1:${port}/hooks` }),
        idempotencyKey: 'docs-example-local-endpoint',
      });
      const delivery = await send('POST /v1/webhook_endpoints/{id}/test', { ids: { id: local.id } });
      await expect
        .poll(async () => {
          const listed = await stack.app.inject({
            method: 'GET',
            url: `/v1/webhook_endpoints/${local.id}/deliveries`,
            headers: bearer(merchant.apiKey),
          });
          return listed.json().data.find((item: { id: string }) => item.id === delivery.id)?.status;
        }, poll)
        .toBe('succeeded');
      await stack.app.inject({
        method: 'DELETE',
        url: `/v1/webhook_endpoints/${local.id}`,
        headers: bearer(merchant.apiKey),
      });
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }

    const endpoint = await send('POST /v1/webhook_endpoints');
    for (const key of [
      'GET /v1/webhook_endpoints/{id}',
      'POST /v1/webhook_endpoints/{id}',
      'GET /v1/webhook_endpoints/{id}/deliveries',
      'POST /v1/webhook_endpoints/{id}/secret/roll',
      'DELETE /v1/webhook_endpoints/{id}',
    ]) {
      await send(key, { ids: { id: endpoint.id } });
    }
  });

  it('succeed for merchants', async () => {
    const merchants = await send('GET /v1/merchants');
    const merchantId = (merchants.data as { id: string }[])[0]?.id;
    expect(merchantId).toMatch(/^mer_/);
    await send('GET /v1/merchants/{id}', { ids: { id: merchantId! } });
  });

  it('succeed for API keys: read, roll, then revoke the old one', async () => {
    const key = await send('POST /v1/api_keys');
    expect(key).toMatchObject({ object: 'api_key', name: 'checkout server', status: 'active' });
    await send('GET /v1/api_keys/{id}', { ids: { id: key.id } });
    const rolled = await send('POST /v1/api_keys/{id}/roll', { ids: { id: key.id } });
    expect(rolled.secret).toMatch(/^sk_test_/);
    // The note: the old key, in its grace window, is not the merchant's last one without an expiry.
    const revoked = await send('DELETE /v1/api_keys/{id}', { ids: { id: key.id } });
    expect(revoked).toMatchObject({ id: key.id, status: 'revoked', rolled_to: rolled.id });
  });

  it('succeed for imports, reconciliation runs and payouts', async () => {
    const run = await send('POST /v1/imports');
    await sendWhenRecorded('GET /v1/imports/{id}', { ids: { id: run.id } });
    const reconciliation = await send('POST /v1/reconciliation/runs');
    await send('GET /v1/reconciliation/runs/{id}', { ids: { id: reconciliation.id } });
    await send('GET /v1/reconciliation/runs/{id}/items', { ids: { id: reconciliation.id } });

    // The payout note: payments settle (here a second after capture) and their net is available.
    const paid = await send('POST /v1/payments');
    await expect
      .poll(async () => (await send('GET /v1/payments/{id}', { ids: { id: paid.id } })).settled, poll)
      .toBe(true);
    const payout = await send('POST /v1/payouts');
    expect(payout).toMatchObject({ amount: 1000, currency: 'USD' });
    await send('GET /v1/payouts/{id}', { ids: { id: payout.id } });
  });

  it('leaves out only the examples a browser cannot send, each saying why', () => {
    // Signed by a provider or partner, or needing a state only a fault or a mismatch makes.
    const notFromTheBrowser = [
      'POST /v1/webhooks/{provider}',
      'POST /v1/webhooks/records/{channel}',
      'POST /v1/admin/payments/{id}/lookup',
      'GET /v1/reconciliation/items/{id}',
      'POST /v1/reconciliation/items/{id}/resolve',
    ];
    for (const key of notFromTheBrowser) expect(operations[key]?.tryItOut, key).toMatch(/\S/);
    const untried = Object.keys(operations).filter((key) => !succeeded.has(key));
    expect(untried.sort()).toEqual([...notFromTheBrowser].sort());
  });
});
