import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { startStack, bearer, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import { buildApp } from '../../src/api/build.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { cipherFor } from '../../src/crypto/column-cipher.ts';
import { rotateColumns } from '../../src/crypto/rotate-columns.ts';
import { requireKeyring } from '../../src/config.ts';

// Sensitive columns hold ciphertext in PostgreSQL and plaintext through the API; rows written
// before encryption read as they are until `keys:rotate`, which also moves everything to a new key.

let stack: Stack;
let merchant: { id: string; apiKey: string };
let api: ReturnType<typeof paymentsClient>;
const customer = `cus_${randomUUID()}`;
const description = `order ${randomUUID()}`;
const metadata = { order_id: `ord_${randomUUID()}` };
const paymentIds: string[] = [];
let endpoint: { id: string; secret: string };

interface StoredPayment {
  customer: string | null;
  customer_index: string | null;
  description: string | null;
  metadata: unknown;
}

const storedPayment = async (id: string) =>
  (
    await stack.prisma.$queryRaw<StoredPayment[]>`
      SELECT customer, customer_index, description, metadata FROM payments WHERE id = ${id}`
  )[0]!;

const storedSecret = async (id: string) =>
  (await stack.prisma.$queryRaw<{ secret: string }[]>`SELECT secret FROM webhook_endpoints WHERE id = ${id}`)[0]!
    .secret;

/** The merchant's payments of `customer` through the list filter of `app`. */
async function listedFor(app: FastifyInstance, who: string): Promise<string[]> {
  const response = await app.inject({
    method: 'GET',
    url: `/v1/payments?customer=${encodeURIComponent(who)}&limit=100`,
    headers: bearer(merchant.apiKey),
  });
  expect(response.statusCode).toBe(200);
  return response
    .json<{ data: { id: string }[] }>()
    .data.map((payment) => payment.id)
    .sort();
}

async function shown(app: FastifyInstance, id: string) {
  const response = await app.inject({ method: 'GET', url: `/v1/payments/${id}`, headers: bearer(merchant.apiKey) });
  expect(response.statusCode).toBe(200);
  return response.json<{ customer: string; description: string; metadata: Record<string, string> }>();
}

beforeAll(async () => {
  stack = await startStack('column-encryption');
  merchant = await stack.merchant();
  api = paymentsClient(stack, merchant);
  for (let index = 0; index < 3; index++) {
    const response = await api.create({
      amount: 1_000,
      currency: 'USD',
      source: card(),
      customer,
      description,
      metadata,
    });
    expect(response.statusCode).toBe(201);
    paymentIds.push(response.json<{ id: string }>().id);
  }
  paymentIds.sort();
  const created = await stack.app.inject({
    method: 'POST',
    url: '/v1/webhook_endpoints',
    headers: bearer(merchant.apiKey),
    payload: { url: 'https://example.com/hooks', events: ['payment.succeeded'] },
  });
  expect(created.statusCode).toBe(201);
  endpoint = created.json<{ id: string; secret: string }>();
});
afterAll(async () => stack?.close());

describe('encrypted columns', () => {
  it('hold ciphertext in the table and plaintext through the API', async () => {
    const keyId = requireKeyring(stack.config).currentKeyId;
    const row = await storedPayment(paymentIds[0]!);
    expect(row.customer).toMatch(new RegExp(`^enc:v1:${keyId}:[A-Za-z0-9+/]+=*$`));
    expect(row.description).toMatch(new RegExp(`^enc:v1:${keyId}:`));
    // jsonb keeps the ciphertext as a JSON string.
    expect(typeof row.metadata).toBe('string');
    expect(row.metadata).toMatch(new RegExp(`^enc:v1:${keyId}:`));
    expect(row.customer_index).toMatch(new RegExp(`^${keyId}:[A-Za-z0-9_-]{43}$`));
    const raw = JSON.stringify(row);
    for (const secret of [customer, description, metadata.order_id]) expect(raw.includes(secret)).toBe(false);

    expect(await shown(stack.app, paymentIds[0]!)).toMatchObject({ customer, description, metadata });
    expect(await listedFor(stack.app, customer)).toEqual(paymentIds);
    expect(await listedFor(stack.app, `${customer}x`)).toEqual([]);
  });

  it('keep stored idempotent answers encrypted, and replay them in the clear', async () => {
    const stored = await stack.prisma.$queryRaw<{ response_body: unknown }[]>`
      SELECT response_body FROM idempotency_keys WHERE merchant_id = ${merchant.id} ORDER BY key`;
    expect(stored).toHaveLength(3);
    for (const row of stored) {
      expect(String(row.response_body).startsWith('enc:v1:')).toBe(true);
      expect(JSON.stringify(row).includes(customer)).toBe(false);
    }
    // paymentsClient keys its requests `<merchant>-1`, `-2`…: the first payment's again.
    const replayed = await api.create(
      { amount: 1_000, currency: 'USD', source: card(), customer, description, metadata },
      `${merchant.id}-1`,
    );
    expect(replayed.statusCode).toBe(201);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json()).toMatchObject({ customer, description, metadata });
    expect(paymentIds).toContain(replayed.json<{ id: string }>().id);
  });

  it('keeps webhook endpoint secrets encrypted, shown once in the clear', async () => {
    expect(endpoint.secret).toMatch(/^whsec_/);
    const stored = await storedSecret(endpoint.id);
    expect(stored).toMatch(/^enc:v1:/);
    expect(stored.includes(endpoint.secret)).toBe(false);
    expect(cipherFor(requireKeyring(stack.config)).open('webhook_endpoints.secret', stored)).toBe(endpoint.secret);
  });

  it('reads rows written before encryption as they are, and finds them by customer', async () => {
    const legacy = paymentIds[0]!;
    await stack.prisma.$executeRaw`
      UPDATE payments SET customer = ${customer}, customer_index = NULL, description = ${description},
        metadata = ${JSON.stringify(metadata)}::jsonb
      WHERE id = ${legacy}`;
    await stack.prisma.$executeRaw`UPDATE webhook_endpoints SET secret = ${endpoint.secret} WHERE id = ${endpoint.id}`;
    expect(await storedPayment(legacy)).toEqual({ customer, customer_index: null, description, metadata });
    expect(await shown(stack.app, legacy)).toMatchObject({ customer, description, metadata });
    expect(await listedFor(stack.app, customer)).toEqual(paymentIds);
  });

  it('rotation re-encrypts every row with the newest key, in batches, once', async () => {
    // The run's key stays listed after the new one: it still decrypts, the new one encrypts.
    const newEntry = Keyring.generateEntry('rotated');
    const rotated = Keyring.parse(`${newEntry},${inject('encryptionKeys')}`);
    const options = { merchantIds: [merchant.id], batchSizeRows: 2 };
    // Each payment's events (payment.created, payment.succeeded) carry its customer, description
    // and metadata, encrypted in place (test/integration/data-at-rest.test.ts covers the rest).
    const events = await stack.prisma.event.count({ where: { merchantId: merchant.id } });
    expect(events).toBeGreaterThanOrEqual(2 * paymentIds.length);
    const nothingElse = { accounts: 0, recordedPayments: 0, paymentReferences: 0, transfers: 0, payouts: 0 };
    expect(await rotateColumns(stack.prisma, cipherFor(rotated), options)).toEqual({
      payments: 3,
      webhookEndpoints: 1,
      idempotencyKeys: 3,
      ...nothingElse,
      events,
    });
    expect(await rotateColumns(stack.prisma, cipherFor(rotated), options)).toEqual({
      payments: 0,
      webhookEndpoints: 0,
      idempotencyKeys: 0,
      ...nothingElse,
      events: 0,
    });

    for (const id of paymentIds) {
      const row = await storedPayment(id);
      for (const sealed of [row.customer, row.description, row.metadata]) {
        expect(String(sealed).startsWith('enc:v1:rotated:')).toBe(true);
      }
      expect(row.customer_index?.startsWith('rotated:')).toBe(true);
    }
    const secret = await storedSecret(endpoint.id);
    expect(secret.startsWith('enc:v1:rotated:')).toBe(true);
    expect(cipherFor(rotated).open('webhook_endpoints.secret', secret)).toBe(endpoint.secret);

    // An API holding the rotated keys reads and finds them; one without the new key cannot read them.
    const app = await buildApp(
      { prisma: stack.prisma, temporal: stack.temporal, config: { ...stack.config, keyring: rotated } },
      { logger: false, bodyLimitBytes: stack.config.bodyLimitBytes, requestTimeoutMs: stack.config.requestTimeoutMs },
    );
    try {
      expect(await shown(app, paymentIds[1]!)).toMatchObject({ customer, description, metadata });
      expect(await listedFor(app, customer)).toEqual(paymentIds);
    } finally {
      await app.close();
    }
    const stale = await stack.app.inject({
      method: 'GET',
      url: `/v1/payments/${paymentIds[1]}`,
      headers: bearer(merchant.apiKey),
    });
    expect(stale.statusCode).toBe(500);
    // Rotating back (the run's key first, the other one kept to decrypt) lets the suite's stack read them again.
    const back = Keyring.parse(`${inject('encryptionKeys')},${newEntry}`);
    expect(await rotateColumns(stack.prisma, cipherFor(back), options)).toEqual({
      payments: 3,
      webhookEndpoints: 1,
      idempotencyKeys: 3,
      ...nothingElse,
      events,
    });
    expect(await shown(stack.app, paymentIds[1]!)).toMatchObject({ customer, description, metadata });
  });
});
