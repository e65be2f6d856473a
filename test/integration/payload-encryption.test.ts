import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { temporal } from '@temporalio/proto';
import { startStack, bearer, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import { buildApp } from '../../src/api/build.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { requireKeyring } from '../../src/config.ts';
import { encryptedEncoding, keyIdMetadataKey } from '../../src/temporal/encryption-codec.ts';

// What Temporal stores of a payment is ciphertext; an operator with the codec access token
// reads it through the codec endpoint (as the Web UI does), also after a key rotation.

let stack: Stack;
let paymentId: string;
/** Each run its own, so finding one in Temporal's bytes can only mean it leaked. */
const secrets = {
  customer: `cus_secret_${randomUUID()}`,
  order: `order_secret_${randomUUID()}`,
  description: `description secret ${randomUUID()}`,
};
const token = 'tok_visa';

interface WirePayload {
  metadata: Record<string, string>;
  data: string;
}

/** Every payload of the payment's history as Temporal stores it, in the codec protocol's JSON. */
async function storedPayloads(workflowId: string): Promise<{ raw: Buffer; payloads: WirePayload[] }> {
  const response = await stack.temporal.workflowService.getWorkflowExecutionHistory({
    namespace: stack.config.temporalNamespace,
    execution: { workflowId },
  });
  const history = temporal.api.history.v1.History.create(response.history ?? {});
  const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  const payloads: WirePayload[] = [];
  const walk = (value: unknown, key: string, parentKey: string): void => {
    if (value === null || typeof value !== 'object') return;
    // Search attributes bypass codecs by design (Temporal indexes them), and the SDK writes its
    // own bookkeeping into markers (a local activity's seq and type, a patch's id) as plain JSON:
    // neither holds our data, and the raw check covers both.
    if (key === 'searchAttributes' || (parentKey === 'details' && (key === 'data' || key === 'patch-data'))) return;
    const candidate = value as { metadata?: unknown; data?: unknown };
    if (candidate.metadata && typeof candidate.metadata === 'object' && 'encoding' in candidate.metadata) {
      payloads.push(value as WirePayload);
      return;
    }
    for (const [innerKey, inner] of Object.entries(value)) walk(inner, innerKey, key);
  };
  walk(history.toJSON(), '', '');
  return { raw, payloads };
}

const decode = (app: FastifyInstance, url: string, payloads: WirePayload[], headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, headers, payload: { payloads } });

const plaintextOf = (payloads: WirePayload[]) =>
  payloads.map((payload) => Buffer.from(payload.data, 'base64').toString('utf8')).join('\n');

beforeAll(async () => {
  stack = await startStack('payload-encryption');
  const merchant = await stack.merchant();
  const api = paymentsClient(stack, merchant);
  const response = await api.create({
    amount: 1_000,
    currency: 'USD',
    source: card(token),
    customer: secrets.customer,
    description: secrets.description,
    metadata: { order: secrets.order },
  });
  expect(response.statusCode).toBe(201);
  const payment = response.json<{ id: string; status: string }>();
  expect(payment.status).toBe('succeeded');
  paymentId = payment.id;
});
afterAll(async () => stack?.close());

describe('payloads in Temporal', () => {
  it('are stored encrypted: no card token, customer, description or metadata in the raw history', async () => {
    const { raw, payloads } = await storedPayloads(paymentId);
    expect(payloads.length).toBeGreaterThan(5);
    for (const secret of [token, secrets.customer, secrets.order, secrets.description]) {
      expect(raw.includes(secret), secret).toBe(false);
    }
    const encodings = new Set(payloads.map((payload) => Buffer.from(payload.metadata.encoding!, 'base64').toString()));
    expect([...encodings]).toEqual([encryptedEncoding]);
    const keyIds = new Set(
      payloads.map((payload) => Buffer.from(payload.metadata[keyIdMetadataKey]!, 'base64').toString()),
    );
    expect([...keyIds]).toEqual([requireKeyring(stack.config).currentKeyId]);
  });

  it('decode through the codec endpoint, with the token as a header or in the Web UI path', async () => {
    const { payloads } = await storedPayloads(paymentId);
    for (const [url, headers] of [
      ['/codec/decode', bearer(stack.config.codecAccessToken!)],
      [`/codec/${stack.config.codecAccessToken}/decode`, {}],
      ['/codec/decode', bearer(stack.adminApiKey)],
    ] as const) {
      const response = await decode(stack.app, url, payloads, headers);
      expect(response.statusCode, url).toBe(200);
      const decoded = response.json<{ payloads: WirePayload[] }>().payloads;
      expect(decoded).toHaveLength(payloads.length);
      const encodings = new Set(decoded.map((payload) => Buffer.from(payload.metadata.encoding!, 'base64').toString()));
      expect([...encodings].sort()).toEqual(['json/plain']);
      const text = plaintextOf(decoded);
      for (const secret of [token, secrets.customer, secrets.order, secrets.description]) {
        expect(text.includes(secret), secret).toBe(true);
      }
    }
  });

  it('encode, then decode back to the same payload', async () => {
    const plain = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from('{"a":1}').toString('base64'),
    };
    const encoded = await decode(stack.app, '/codec/encode', [plain], bearer(stack.config.codecAccessToken!));
    expect(encoded.statusCode).toBe(200);
    const sealed = encoded.json<{ payloads: WirePayload[] }>().payloads;
    expect(Buffer.from(sealed[0]!.metadata.encoding!, 'base64').toString()).toBe(encryptedEncoding);
    const decoded = await decode(stack.app, '/codec/decode', sealed, bearer(stack.config.codecAccessToken!));
    expect(decoded.json()).toEqual({ payloads: [plain] });
  });

  it('the codec endpoint refuses calls without a valid token, before reading the body', async () => {
    const { payloads } = await storedPayloads(paymentId);
    const refusals = await Promise.all([
      decode(stack.app, '/codec/decode', payloads),
      decode(stack.app, '/codec/decode', payloads, bearer('sk_admin_wrong')),
      decode(stack.app, '/codec/wrong-token/decode', payloads),
      // The admin key is a header credential only, never a URL.
      decode(stack.app, `/codec/${stack.adminApiKey}/decode`, payloads),
      stack.app.inject({
        method: 'POST',
        url: '/codec/encode',
        payload: 'not json',
        headers: { 'content-type': 'application/json' },
      }),
    ]);
    for (const response of refusals) {
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('api_key_invalid');
      expect(response.body.includes(secrets.customer)).toBe(false);
    }
  });

  it('answers the Web UI origin only (CORS)', async () => {
    const origin = stack.config.codecCorsOrigins[0]!;
    const preflight = await stack.app.inject({
      method: 'OPTIONS',
      url: `/codec/${stack.config.codecAccessToken}/decode`,
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(origin);
    expect(preflight.headers['access-control-allow-headers']).toBe('content-type, x-namespace, authorization');
    const { payloads } = await storedPayloads(paymentId);
    const answer = await decode(stack.app, `/codec/${stack.config.codecAccessToken}/decode`, payloads.slice(0, 1), {
      origin,
      'x-namespace': stack.config.temporalNamespace,
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe(origin);

    const stranger = await stack.app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(stranger.statusCode).toBe(403);
    expect(stranger.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('payloads sealed with a retired current key still decode after rotation; new ones use the new key', async () => {
    // A new key first (it encrypts from now on), the run's key kept after it (it still decrypts).
    const rotated = Keyring.parse(`${Keyring.generateEntry('rotated')},${inject('encryptionKeys')}`);
    expect(rotated.currentKeyId).toBe('rotated');
    const app = await buildApp(
      { prisma: stack.prisma, temporal: stack.temporal, config: { ...stack.config, keyring: rotated } },
      { logger: false, bodyLimitBytes: stack.config.bodyLimitBytes, requestTimeoutMs: stack.config.requestTimeoutMs },
    );
    try {
      const { payloads } = await storedPayloads(paymentId);
      const decoded = await decode(app, '/codec/decode', payloads, bearer(stack.config.codecAccessToken!));
      expect(decoded.statusCode).toBe(200);
      expect(plaintextOf(decoded.json<{ payloads: WirePayload[] }>().payloads).includes(secrets.customer)).toBe(true);

      const plain = {
        metadata: { encoding: Buffer.from('json/plain').toString('base64') },
        data: Buffer.from('"x"').toString('base64'),
      };
      const encoded = await decode(app, '/codec/encode', [plain], bearer(stack.config.codecAccessToken!));
      const keyId = encoded.json<{ payloads: WirePayload[] }>().payloads[0]!.metadata[keyIdMetadataKey]!;
      expect(Buffer.from(keyId, 'base64').toString()).toBe('rotated');

      // Without the old key, the old payloads no longer decode: a 400 naming the payload.
      const withoutOld = await buildApp(
        {
          prisma: stack.prisma,
          temporal: stack.temporal,
          config: { ...stack.config, keyring: Keyring.parse(Keyring.generateEntry('only')) },
        },
        { logger: false, bodyLimitBytes: stack.config.bodyLimitBytes, requestTimeoutMs: stack.config.requestTimeoutMs },
      );
      const refused = await decode(
        withoutOld,
        '/codec/decode',
        payloads.slice(0, 1),
        bearer(stack.config.codecAccessToken!),
      );
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error).toMatchObject({ code: 'parameter_invalid', param: 'payloads[0]' });
      await withoutOld.close();
    } finally {
      await app.close();
    }
  });
});
