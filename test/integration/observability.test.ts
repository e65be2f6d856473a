import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startStack, bearer, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import { freePort } from '../../src/temporal/dev-server.ts';
import { startMetricsServer } from '../../src/observability/metrics-server.ts';

// Logs and metrics of the real stack: one payment followed by its id from the HTTP request
// to its workflow, its activities and its provider call; no secret on any line; and the
// Prometheus text at GET /metrics after a payment.

type Line = Record<string, unknown> & { proc: string; level: number; msg: string };

const lines: string[] = [];
const logs = { write: (line: string) => void lines.push(line) };
const parsed = (): Line[] => lines.map((line) => JSON.parse(line) as Line);
const aboutPayment = (id: string) => parsed().filter((line) => line.paymentId === id || line.workflowId === id);

let stack: Stack;
let merchant: { id: string; apiKey: string };
let api: ReturnType<typeof paymentsClient>;

let temporalMetricsPort: number;

beforeAll(async () => {
  temporalMetricsPort = await freePort();
  stack = await startStack(
    'observability',
    { rateLimitPerSecond: 10_000 },
    {},
    { logs, temporalMetricsAddress: `127.0.0.1:${temporalMetricsPort}` },
  );
  merchant = await stack.merchant();
  api = paymentsClient(stack, merchant);
});

afterAll(async () => {
  const report = await stack.app.inject({
    method: 'GET',
    url: '/v1/ledger/integrity',
    headers: bearer(stack.adminApiKey),
  });
  expect(report.json()).toMatchObject({ healthy: true, discrepancies: [] });
  await stack?.close();
});

describe('logs', () => {
  it('follow one payment by its id across the API and the worker, with no secret on any line', async () => {
    const response = await api.create({ amount: 1_000, currency: 'USD', source: card('tok_visa') });
    expect(response.statusCode).toBe(201);
    const payment = response.json<{ id: string; status: string }>();
    expect(payment.status).toBe('succeeded');
    const requestId = response.headers['request-id'];

    // The worker's lines are written as its tasks finish: wait for the provider call and the capture's record.
    await vi.waitFor(() => {
      const activities = aboutPayment(payment.id).map((line) => line.activity);
      expect(activities).toContain('tryAuthorizeCard');
      expect(activities).toContain('recordTransition');
    });
    const mine = aboutPayment(payment.id);

    // HTTP: the request that created it, with its request id (the Request-Id header) and merchant.
    const http = mine.filter((line) => line.proc === 'api');
    expect(http.length).toBeGreaterThan(0);
    expect(http.every((line) => line.reqId === requestId && line.merchantId === merchant.id)).toBe(true);
    expect(http.some((line) => line.msg === 'request completed')).toBe(true);

    // Workflow: the SDK's lines about the payment's workflow, with its run id.
    const workflow = mine.filter((line) => line.proc === 'worker' && line.activity === undefined);
    expect(workflow.length).toBeGreaterThan(0);
    for (const line of workflow) {
      expect(line).toMatchObject({
        workflowId: payment.id,
        runId: expect.any(String),
        workflowType: 'paymentWorkflowV2',
      });
    }

    // Activities: each names its workflow, run, activity and payment; the provider call among them.
    const activities = mine.filter((line) => line.proc === 'worker' && line.activity !== undefined);
    for (const line of activities) {
      expect(line).toMatchObject({ workflowId: payment.id, runId: expect.any(String), paymentId: payment.id });
      expect(line).not.toHaveProperty('taskToken');
    }
    // The interceptor's line (the SDK's "Activity started" comes before it has read the input).
    const recorded = activities.find((line) => line.activity === 'recordTransition' && line.component === 'activity');
    expect(recorded).toMatchObject({ msg: 'Activity completed', merchantId: merchant.id, level: 30 });
    expect(activities.find((line) => line.msg === 'Provider call answered')).toMatchObject({
      activity: 'tryAuthorizeCard',
      provider: 'stripe',
      chargeId: expect.any(String),
    });
    expect(new Set(mine.map((line) => line.runId).filter(Boolean)).size).toBe(1);

    const everything = lines.join('\n');
    expect(everything).not.toContain(merchant.apiKey);
    expect(everything).not.toContain(stack.adminApiKey);
    for (const secret of [...stack.config.webhookSecretsStripe, ...stack.config.webhookSecretsPaypal]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).not.toMatch(/tok_[A-Za-z]/);
    expect(everything).not.toContain('4242424242424242');
  });

  it('logs a decline at info with its code and no stack; nothing about it at warn or above', async () => {
    const response = await api.create({ amount: 1_000, currency: 'USD', source: card('tok_chargeDeclined') });
    expect(response.json()).toMatchObject({ status: 'failed', failure_code: 'card_declined' });
    const id = response.json<{ id: string }>().id;
    await vi.waitFor(() => {
      expect(aboutPayment(id).some((line) => line.msg === 'Activity ended with a business outcome')).toBe(true);
    });
    const mine = aboutPayment(id);
    expect(mine.find((line) => line.msg === 'Activity ended with a business outcome')).toMatchObject({
      level: 30,
      activity: 'tryAuthorizeCard',
      code: 'card_declined',
    });
    expect(mine.filter((line) => line.level >= 40)).toEqual([]);
    expect(JSON.stringify(mine)).not.toContain('    at ');
  });
});

describe('metrics', () => {
  it('answers Prometheus text with the request histogram by route and the payment transitions', async () => {
    const created = await api.create({ amount: 1_500, currency: 'USD', source: card('tok_visa') });
    expect(created.statusCode).toBe(201);
    const unsigned = await stack.app.inject({
      method: 'POST',
      url: '/v1/webhooks/stripe',
      headers: { 'content-type': 'application/json' },
      payload: '{"id":"evt_1","type":"charge.refunded"}',
    });
    expect(unsigned.statusCode).toBe(400);
    const response = await stack.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = response.body;
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    // The route pattern, never the URL with an id.
    expect(
      sample(text, 'http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/payments',
        status_code: '201',
      }),
    ).toBeGreaterThan(0);
    expect(
      sample(text, 'http_request_duration_seconds_bucket', { route: '/v1/payments', status_code: '201', le: '+Inf' }),
    ).toBeGreaterThan(0);
    expect(text).not.toContain('route="/v1/payments/pay_');
    expect(text).toContain('# TYPE payment_transitions_total counter');
    expect(
      sample(text, 'payment_transitions_total', { from: 'none', to: 'processing', provider: 'none', currency: 'USD' }),
    ).toBeGreaterThan(0);
    expect(
      sample(text, 'payment_transitions_total', {
        from: 'processing',
        to: 'succeeded',
        provider: 'stripe',
        currency: 'USD',
      }),
    ).toBeGreaterThan(0);
    expect(
      sample(text, 'provider_request_duration_seconds_count', {
        provider: 'stripe',
        operation: 'authorize',
        outcome: 'success',
      }),
    ).toBeGreaterThan(0);
    expect(sample(text, 'provider_circuit_breaker_state', { provider: 'stripe', state: 'closed' })).toBe(1);
    expect(sample(text, 'provider_circuit_breaker_state', { provider: 'stripe', state: 'open' })).toBe(0);
    expect(sample(text, 'ledger_postings_total', { kind: 'payment_capture', replayed: 'false' })).toBeGreaterThan(0);
    expect(
      sample(text, 'webhook_intake_total', {
        provider: 'stripe',
        outcome: 'rejected',
        reason: 'webhook_signature_invalid',
      }),
    ).toBe(1);
    expect(sample(text, 'webhook_inbox_backlog', {})).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'event_relay_lag_seconds', {})).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'db_pool_connections', { state: 'max' })).toBeGreaterThan(0);
  });
});

describe('worker metrics', () => {
  it("serves the worker's registry on its own port, and the Temporal SDK's on another", async () => {
    const server = await startMetricsServer('127.0.0.1', 0);
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await response.text()).toContain('# TYPE payment_transitions_total counter');
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
    const sdk = await (await fetch(`http://127.0.0.1:${temporalMetricsPort}/metrics`)).text();
    expect(sdk).toMatch(/^temporal_\w+/m);
  });
});

/** The value of the one sample of `name` whose labels include `labels` (label order is the library's). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const matches = text.split('\n').filter((line) => {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) return false;
    const pairs = match[2] ?? '';
    return Object.entries(labels).every(([key, value]) => pairs.includes(`${key}="${value}"`));
  });
  expect(matches, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return Number(matches[0]?.split(' ').at(-1));
}
