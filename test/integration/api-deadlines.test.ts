import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { startStack, bearer, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import { buildApp } from '../../src/api/build.ts';
import { answerMarginMs } from '../../src/api/answer-deadlines.ts';
import { retryAfterSeconds } from '../../src/api/errors.ts';
import { resourceIdFor } from '../../src/api/workflow-runs.ts';
import { paymentSettings } from '../../src/api/routes/payments.ts';
import type { PaymentInput } from '../../src/domain/payment-view.ts';
import { requireKeyring, type Config } from '../../src/config.ts';
import { createProviderGateway } from '../../src/providers/index.ts';
import { createWorker } from '../../src/worker.ts';
import { createDataConverter } from '../../src/temporal/data-converter.ts';
import { connectionOptions } from '../../src/temporal/client.ts';
import { freePort } from '../../src/temporal/dev-server.ts';

// Every answer that waits on Temporal comes within its wait plus answerMarginMs, whatever the
// worker's state: 201/200 when the work is done in time, 202 when the workflow has it but has
// not finished (a create whose workflow no worker has run yet included), 503 with Retry-After
// when an update was not accepted or Temporal cannot be reached. Real Temporal, PostgreSQL and
// provider simulator. The API under test runs on a task queue of its own, polled only by the
// worker this file starts and stops.

const waitMs = 1_500;
const boundMs = waitMs + answerMarginMs;
/** Long enough for a worker that starts late to pick up what waited for it. */
const poll = { timeout: 30_000, interval: 200 };

let stack: Stack;
let config: Config;
let app: FastifyInstance;
let api: ReturnType<typeof paymentsClient>;
let merchant: { id: string; apiKey: string };
let stopWorker: (() => Promise<void>) | undefined;

/** Made while a worker runs: a manual payment to capture, a captured one to refund, two accounts. */
const fixtures = { toCapture: '', toRefund: '', from: '', to: '' };

async function startWorker(): Promise<() => Promise<void>> {
  const providers = createProviderGateway(config);
  const { worker, connection } = await createWorker({
    address: inject('temporalAddress'),
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    prisma: stack.prisma,
    providers,
    temporal: stack.temporal,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    keyring: requireKeyring(config),
  });
  const run = worker.run();
  return async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await run;
    await connection.close();
    providers.shutdown();
  };
}

/** The answer and how long it took, measured around the whole request. */
async function timed(send: () => Promise<LightMyRequestResponse>) {
  const started = performance.now();
  const response = await send();
  return { response, elapsedMs: performance.now() - started };
}

function expectServiceUnavailable(answer: { response: LightMyRequestResponse; elapsedMs: number }) {
  expect(answer.response.statusCode).toBe(503);
  expect(answer.response.headers['retry-after']).toBe(String(retryAfterSeconds));
  expect(answer.response.json()).toEqual({
    error: { type: 'api_error', code: 'service_unavailable', message: expect.any(String) },
  });
  expect(answer.elapsedMs).toBeLessThan(boundMs);
}

function deposit(target: FastifyInstance, accountId: string, amount: number, key: string) {
  return target.inject({
    method: 'POST',
    url: `/v1/accounts/${accountId}/deposits`,
    headers: { ...bearer(merchant.apiKey), 'idempotency-key': key },
    payload: { amount, reference: 'deadline test' },
  });
}

function transfer(target: FastifyInstance, amount: number, key: string) {
  return target.inject({
    method: 'POST',
    url: '/v1/transfers',
    headers: { ...bearer(merchant.apiKey), 'idempotency-key': key },
    payload: { from_account_id: fixtures.from, to_account_id: fixtures.to, amount, currency: 'USD' },
  });
}

/** An action on `target` as the test merchant. */
function act(target: FastifyInstance, id: string, action: string, payload: object, key?: string) {
  return target.inject({
    method: 'POST',
    url: `/v1/payments/${id}/${action}`,
    headers: { ...bearer(merchant.apiKey), ...(key ? { 'idempotency-key': key } : {}) },
    payload,
  });
}

const getJson = async (url: string) =>
  app.inject({ method: 'GET', url, headers: bearer(merchant.apiKey) }).then((response) => ({
    statusCode: response.statusCode,
    body: response.json(),
  }));

const setPaypalLatency = (latencyMs: number) =>
  stack.sim.inject({ method: 'POST', url: '/admin/faults', payload: { provider: 'paypal', latency_ms: latencyMs } });

beforeAll(async () => {
  stack = await startStack('deadlines', { rateLimitPerSecond: 10_000 });
  config = {
    ...stack.config,
    taskQueue: `test-deadlines-api-${randomUUID()}`,
    paymentWaitMs: waitMs,
    depositWaitMs: waitMs,
    // Longer than the slow provider below, so a slow call is slow, not failed.
    providerTimeoutMs: 10_000,
    // Nothing of the fixtures' runs in the background while the worker is down.
    settlementDelayMs: 3_600_000,
    authorizationExpiryMs: 3_600_000,
  };
  app = await buildApp(
    { prisma: stack.prisma, temporal: stack.temporal, config },
    { logger: false, bodyLimitBytes: config.bodyLimitBytes, requestTimeoutMs: config.requestTimeoutMs },
  );
  merchant = await stack.merchant();
  api = paymentsClient({ ...stack, app }, merchant);

  stopWorker = await startWorker();
  const manual = await api.create({ amount: 4_000, currency: 'USD', source: card(), capture_method: 'manual' });
  expect(manual.json()).toMatchObject({ status: 'requires_capture' });
  const captured = await api.create({ amount: 10_000, currency: 'USD', source: card() });
  expect(captured.json()).toMatchObject({ status: 'succeeded' });
  fixtures.toCapture = manual.json().id;
  fixtures.toRefund = captured.json().id;
  fixtures.from = await api.openAccount();
  fixtures.to = await api.openAccount();
  await api.deposit(fixtures.from, 1_000);
});

afterAll(async () => {
  await stack?.sim.inject({ method: 'DELETE', url: '/admin/faults' });
  await stopWorker?.();
  await app?.close();
  await stack?.close();
});

/** Retries the action with its key, as a client honouring Retry-After does, until it is done. */
async function retriedUntilDone(target: FastifyInstance, id: string, action: string, payload: object, key: string) {
  let last: LightMyRequestResponse | undefined;
  await expect
    .poll(async () => {
      last = await act(target, id, action, payload, key);
      return last.statusCode;
    }, poll)
    .toBeLessThan(300);
  return last as LightMyRequestResponse;
}

const paypalStats = async () => (await api.simStats()).paypal;

describe('a worker slower than the wait', () => {
  // Every paypal request takes 2.5 s: an authorization, a capture or a refund outlasts the wait.
  beforeAll(async () => {
    expect((await setPaypalLatency(2_500)).statusCode).toBe(200);
  });
  afterAll(async () => {
    await stack.sim.inject({ method: 'DELETE', url: '/admin/faults' });
  });

  it('answers a create 202 processing; a slow capture and refund 503, whose keyed retries apply them once', async () => {
    const created = await timed(() =>
      api.create({ amount: 3_000, currency: 'USD', source: card('tok_visa', 'paypal'), capture_method: 'manual' }),
    );
    expect(created.response.statusCode).toBe(202);
    expect(created.response.json()).toMatchObject({ object: 'payment', status: 'processing', amount: 3_000 });
    expect(created.elapsedMs).toBeLessThan(boundMs);
    const id: string = created.response.json().id;
    await expect.poll(async () => (await api.get(id)).status, poll).toBe('requires_capture');

    // paymentWorkflowV2 runs a capture as a local activity and accepts the update with the
    // workflow task that finishes it: not accepted within the wait, it is not yet durable.
    const before = await paypalStats();
    const capture = await timed(() => act(app, id, 'capture', {}, `capture-slow-${id}`));
    expectServiceUnavailable(capture);
    const captured = await retriedUntilDone(app, id, 'capture', {}, `capture-slow-${id}`);
    expect(captured.statusCode).toBe(200);
    expect(captured.json()).toMatchObject({ id, status: 'succeeded', amount_captured: 3_000 });

    const refund = await timed(() => act(app, id, 'refunds', { amount: 1_000 }, `refund-slow-${id}`));
    expectServiceUnavailable(refund);
    const refunded = await retriedUntilDone(app, id, 'refunds', { amount: 1_000 }, `refund-slow-${id}`);
    expect(refunded.statusCode).toBe(201);
    expect(refunded.json()).toMatchObject({ payment_id: id, amount: 1_000, status: 'succeeded' });
    expect((await api.get(id)).amount_refunded).toBe(1_000);
    const after = await paypalStats();
    expect([after.captures - before.captures, after.refunds - before.refunds]).toEqual([1, 1]);
  }, 90_000);

  it('answers 202 for a capture and a refund accepted but not finished in time (a payment on the v1 workflow)', async () => {
    // Payments started before paymentWorkflowV2 keep running paymentWorkflow (workflows/legacy),
    // whose steps are activities of their own: an update is accepted as soon as a worker sees it.
    const id = resourceIdFor('pay', `payment:${merchant.id}:v1-${randomUUID()}`);
    await stack.temporal.workflow.start('paymentWorkflow', {
      workflowId: id,
      taskQueue: config.taskQueue,
      args: [
        {
          paymentId: id,
          merchantId: merchant.id,
          amount: 3_000n,
          currency: 'USD',
          captureMethod: 'manual',
          source: { type: 'card', token: 'tok_visa', provider: 'paypal' },
          customer: null,
          description: null,
          metadata: null,
          cardFingerprint: null,
          createdAt: new Date().toISOString(),
          settings: paymentSettings(config),
        } satisfies PaymentInput,
      ],
    });
    await expect.poll(async () => (await getJson(`/v1/payments/${id}`)).body.status, poll).toBe('requires_capture');

    const capture = await timed(() => act(app, id, 'capture', {}, `capture-v1-${id}`));
    expect(capture.response.statusCode).toBe(202);
    expect(capture.response.json()).toMatchObject({ id, status: 'requires_capture', amount_captured: 0 });
    expect(capture.elapsedMs).toBeLessThan(boundMs);
    await expect.poll(async () => (await api.get(id)).status, poll).toBe('succeeded');

    const refund = await timed(() => act(app, id, 'refunds', { amount: 1_000 }, `refund-v1-${id}`));
    expect(refund.response.statusCode).toBe(202);
    expect(refund.response.json()).toMatchObject({
      object: 'refund',
      payment_id: id,
      amount: 1_000,
      status: 'pending',
    });
    expect(refund.elapsedMs).toBeLessThan(boundMs);
    await expect.poll(async () => (await api.get(id)).amount_refunded, poll).toBe(1_000);

    // 202s are not stored: the same keys, asked again once done, answer the final outcomes.
    const again = await act(app, id, 'refunds', { amount: 1_000 }, `refund-v1-${id}`);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ id: refund.response.json().id, status: 'succeeded', amount: 1_000 });
    expect((await act(app, id, 'capture', {}, `capture-v1-${id}`)).statusCode).toBe(200);
    expect((await api.get(id)).amount_refunded).toBe(1_000);
  }, 90_000);
});

describe('no worker polling the task queue', () => {
  const started = { payment: '', deposit: '', transfer: '' };
  const keys = {
    create: `create-${randomUUID()}`,
    capture: `capture-${randomUUID()}`,
    refund: `refund-${randomUUID()}`,
  };

  beforeAll(async () => {
    await stopWorker?.();
    stopWorker = undefined;
  });

  it('answers a create 202 processing with its payment id within the wait plus the margin, again on retry', async () => {
    const payload = { amount: 2_500, currency: 'USD', source: card() };
    const created = await timed(() => api.create(payload, keys.create));
    expect(created.response.statusCode).toBe(202);
    expect(created.response.json()).toMatchObject({
      object: 'payment',
      status: 'processing',
      amount: 2_500,
      currency: 'USD',
      amount_captured: 0,
      refunds: [],
    });
    expect(created.elapsedMs).toBeGreaterThanOrEqual(waitMs - 50);
    expect(created.elapsedMs).toBeLessThan(boundMs);
    started.payment = created.response.json().id;
    expect(started.payment).toMatch(/^pay_/);

    // The 202 was not stored: the retry asks Temporal again and finds the same workflow.
    const retried = await timed(() => api.create(payload, keys.create));
    expect(retried.response.statusCode).toBe(202);
    expect(retried.response.headers['idempotent-replayed']).toBeUndefined();
    expect(retried.response.json()).toMatchObject({ id: started.payment, status: 'processing' });
    expect(retried.elapsedMs).toBeLessThan(boundMs);

    // The key still holds the first request's parameters: other ones are refused, not joined
    // to the payment the first request started.
    const reused = await api.create({ ...payload, amount: 9_999, currency: 'EUR' }, keys.create);
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_reused' });
  });

  it('answers a capture and a refund 503 with Retry-After: no worker accepted the update', async () => {
    expectServiceUnavailable(await timed(() => act(app, fixtures.toCapture, 'capture', {}, keys.capture)));
    expectServiceUnavailable(await timed(() => act(app, fixtures.toRefund, 'refunds', { amount: 2_500 }, keys.refund)));
    // An unkeyed action is bounded the same way. (On the captured payment: should this update
    // still reach the workflow later, its validator refuses it, and the capture above is untouched.)
    expectServiceUnavailable(await timed(() => act(app, fixtures.toRefund, 'cancel', {})));
  });

  it('answers a deposit and a transfer 202 pending within the wait plus the margin', async () => {
    const deposited = await timed(() => deposit(app, fixtures.from, 500, `deposit-${randomUUID()}`));
    expect(deposited.response.statusCode).toBe(202);
    expect(deposited.response.json()).toMatchObject({ object: 'deposit', amount: 500, status: 'pending' });
    expect(deposited.elapsedMs).toBeLessThan(boundMs);
    started.deposit = deposited.response.json().id;

    const transferred = await timed(() => transfer(app, 300, `transfer-${randomUUID()}`));
    expect(transferred.response.statusCode).toBe(202);
    expect(transferred.response.json()).toMatchObject({ object: 'transfer', amount: 300, status: 'pending' });
    expect(transferred.elapsedMs).toBeLessThan(boundMs);
    started.transfer = transferred.response.json().id;
  });

  it('finishes all of it once a worker runs; the refused updates retried with their keys apply once', async () => {
    const before = await api.simStats();
    stopWorker = await startWorker();

    await expect.poll(async () => (await api.get(started.payment)).status, poll).toBe('succeeded');
    await expect.poll(async () => (await getJson(`/v1/deposits/${started.deposit}`)).statusCode, poll).toBe(200);
    await expect
      .poll(async () => (await getJson(`/v1/transfers/${started.transfer}`)).body.status, poll)
      .toBe('succeeded');
    expect(await api.account(fixtures.from)).toMatchObject({ balance: 1_200, held: 0 });
    expect(await api.account(fixtures.to)).toMatchObject({ balance: 300, held: 0 });

    // The first attempts' updates may have been applied when the worker came back; their keys
    // name the same updates, so the retries only collect their outcomes.
    const capture = await retriedUntilDone(app, fixtures.toCapture, 'capture', {}, keys.capture);
    expect(capture.json()).toMatchObject({ id: fixtures.toCapture, status: 'succeeded', amount_captured: 4_000 });
    const refund = await retriedUntilDone(app, fixtures.toRefund, 'refunds', { amount: 2_500 }, keys.refund);
    expect(refund.json()).toMatchObject({ amount: 2_500 });
    await expect.poll(async () => (await api.get(fixtures.toRefund)).amount_refunded, poll).toBe(2_500);

    const stats = await api.simStats();
    // The created payment's charge and the one capture; the one refund.
    expect(stats.stripe.charges - before.stripe.charges).toBe(1);
    expect(stats.stripe.captures - before.stripe.captures).toBe(1);
    expect(stats.stripe.refunds - before.stripe.refunds).toBe(1);
    expect((await api.ledger(fixtures.toCapture)).map((transaction) => transaction.kind)).toEqual(['payment_capture']);
    expect((await api.ledger(fixtures.toRefund)).map((transaction) => transaction.kind)).toEqual([
      'payment_capture',
      'refund',
    ]);
  }, 90_000);
});

describe('Temporal unreachable', () => {
  // A second API whose Temporal client points at a port nothing listens on. A lazy connection
  // does not check the server when it is made, as a client that lost its server sees it.
  let unreachable: FastifyInstance;
  let connection: Connection;

  beforeAll(async () => {
    connection = Connection.lazy(connectionOptions(`127.0.0.1:${await freePort()}`));
    const temporal = new Client({
      connection,
      namespace: config.temporalNamespace,
      dataConverter: createDataConverter(requireKeyring(config)),
    });
    unreachable = await buildApp(
      { prisma: stack.prisma, temporal, config },
      { logger: false, bodyLimitBytes: config.bodyLimitBytes, requestTimeoutMs: config.requestTimeoutMs },
    );
  });
  afterAll(async () => {
    await unreachable?.close();
    await connection?.close();
  });

  it('answers every create, capture, refund, deposit and transfer 503 with Retry-After within the bound', async () => {
    const key = `unreachable-${randomUUID()}`;
    const created = await timed(() =>
      unreachable.inject({
        method: 'POST',
        url: '/v1/payments',
        headers: { ...bearer(merchant.apiKey), 'idempotency-key': key },
        payload: { amount: 1_000, currency: 'USD', source: card() },
      }),
    );
    expectServiceUnavailable(created);
    // Nothing started, nothing recorded, and the key is free for the retry: unlocked, nothing
    // stored, only the request's fingerprint kept.
    const paymentId = resourceIdFor('pay', `payment:${merchant.id}:${key}`);
    await expect(stack.temporal.workflow.getHandle(paymentId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect((await getJson(`/v1/payments/${paymentId}`)).statusCode).toBe(404);
    expect(
      await stack.prisma.idempotencyKey.findUnique({
        where: { merchantId_key: { merchantId: merchant.id, key } },
        select: { lockedAt: true, responseStatus: true },
      }),
    ).toEqual({ lockedAt: null, responseStatus: null });

    expectServiceUnavailable(await timed(() => act(unreachable, fixtures.toCapture, 'capture', {}, 'unreachable-c')));
    expectServiceUnavailable(
      await timed(() => act(unreachable, fixtures.toRefund, 'refunds', { amount: 100 }, 'unreachable-r')),
    );
    expectServiceUnavailable(await timed(() => deposit(unreachable, fixtures.from, 100, `unreachable-d-${key}`)));
    expectServiceUnavailable(await timed(() => transfer(unreachable, 100, `unreachable-t-${key}`)));

    const ready = await unreachable.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ checks: { postgres: 'ok', temporal: 'unavailable' } });
  });
});
