import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import { freePort } from '../../src/temporal/dev-server.ts';
import { dataDir } from '../../src/db/database.ts';
import { startNatsServer, type NatsServer } from '../../src/nats/nats-server.ts';
import { ensureEventStream } from '../../src/nats/event-stream.ts';
import type { Config } from '../../src/config.ts';

// The downstream event stream end to end: real deposits and payments through the API write
// outbox events, the publisher puts them on a real JetStream stream, and a durable consumer of
// our own reads them. This suite runs its own nats-server (so stopping it for the outage test
// touches no other suite) with the production stream settings: PAYMENTS on payments.>.

const streamSettings: Partial<Config> = {
  rateLimitPerSecond: 10_000,
  relayIntervalMs: 50,
  eventPublishIntervalMs: 50,
  eventPublishTimeoutMs: 1_000,
  natsConnectTimeoutMs: 1_000,
  eventPublishInitialRetryMs: 100,
  eventPublishMaxRetryMs: 400,
};
const poll = { timeout: 20_000, interval: 50 };
const stream = 'PAYMENTS';

interface StreamMessage {
  seq: number;
  subject: string;
  msgId: string | undefined;
  body: { id: string; type: string; created_at: string; data: { object: { id: string } } };
}

/** A downstream service: a durable pull consumer that acknowledges what it reads. */
async function startConsumer(url: string) {
  const connection: NatsConnection = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  const jsm: JetStreamManager = await jetstreamManager(connection);
  const durable = `downstream-${randomUUID()}`;
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  const consumer = await jetstream(connection).consumers.get(stream, durable);
  const received: StreamMessage[] = [];
  /** Reads what the stream has for us within expiresMs (JetStream's minimum is 1 s). */
  const fetchAvailable = async (expiresMs: number) => {
    const batch = await consumer.fetch({ max_messages: 100, expires: expiresMs });
    for await (const message of batch) {
      received.push({
        seq: message.seq,
        subject: message.subject,
        msgId: message.headers?.get('Nats-Msg-Id'),
        body: message.json<StreamMessage['body']>(),
      });
      // Confirmed, so a broker restart right after cannot hand it to us again.
      await message.ackAck();
    }
  };
  return {
    received,
    jsm,
    /** Reads until every id has arrived at least once. */
    async waitFor(ids: readonly string[]) {
      await expect
        .poll(async () => {
          const seen = new Set(received.map((message) => message.msgId));
          if (ids.every((id) => seen.has(id))) return true;
          await fetchAvailable(1_000);
          return ids.every((id) => new Set(received.map((message) => message.msgId)).has(id));
        }, poll)
        .toBe(true);
    },
    fetchAvailable,
    close: () => connection.close(),
  };
}

type Consumer = Awaited<ReturnType<typeof startConsumer>>;

/** A webhook receiver on a free port that counts the deliveries it got, by event id. */
async function startReceiver() {
  const server = Fastify({ logger: false });
  const eventIds: string[] = [];
  server.post('/hooks', async (request) => {
    eventIds.push((request.body as { id: string }).id);
    return { ok: true };
  });
  const port = await freePort();
  await server.listen({ host: '127.0.0.1', port });
  return { url: `http://127.0.0.1:${port}/hooks`, eventIds, close: () => server.close() };
}

describe('event stream', () => {
  let stack: Stack;
  let nats: NatsServer;
  let natsPort: number;
  let consumer: Consumer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const storeDir = path.join(dataDir, 'test-nats', `event-stream-${randomUUID()}`);

  beforeAll(async () => {
    natsPort = await freePort();
    nats = await startNatsServer({ port: natsPort, storeDir });
    [stack, receiver] = await Promise.all([
      startStack('event-stream', { ...streamSettings, natsUrl: nats.url }),
      startReceiver(),
    ]);
    // The publisher creates the stream at start, before any event exists (checked below).
    const probe = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(probe);
    await vi.waitFor(() => jsm.streams.info(stream), poll);
    await probe.close();
    consumer = await startConsumer(nats.url);
  });
  afterAll(async () => {
    await consumer?.close();
    await stack?.close();
    await receiver?.close();
    await nats?.stop();
    await rm(storeDir, { recursive: true, force: true });
  });

  /** The merchant's events in the order they were created (the publisher's order). */
  const eventsOf = (merchantId: string) =>
    stack.prisma.event.findMany({
      where: { merchantId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { id: true, type: true, resourceId: true, publishedAt: true },
    });
  const messagesOf = (ids: readonly string[]) =>
    consumer.received.filter((message) => message.msgId !== undefined && ids.includes(message.msgId));

  it('the stream has our settings: PAYMENTS on payments.>, a one-hour duplicate window, limits retention', async () => {
    const info = await consumer.jsm.streams.info(stream);
    expect(info.config).toMatchObject({
      name: 'PAYMENTS',
      subjects: ['payments.>'],
      retention: 'limits',
      storage: 'file',
      discard: 'old',
      duplicate_window: 3_600_000_000_000,
      max_age: 7 * 24 * 3_600_000_000_000,
      max_bytes: 1024 * 1024 * 1024,
    });
    // Ensuring it again, as every start does, changes nothing; a changed setting is applied.
    await ensureEventStream(consumer.jsm, stack.config);
    await ensureEventStream(consumer.jsm, { ...stack.config, eventStreamMaxAgeMs: 2 * 24 * 3_600_000 });
    expect((await consumer.jsm.streams.info(stream)).config.max_age).toBe(2 * 24 * 3_600_000_000_000);
    await ensureEventStream(consumer.jsm, stack.config);
    expect((await consumer.jsm.streams.info(stream)).config.max_age).toBe(7 * 24 * 3_600_000_000_000);
  });

  it('publishes every event of real deposits and payments once, in creation order, with the public body', async () => {
    const merchant = await stack.merchant();
    const payments = paymentsClient(stack, merchant);
    const account = await payments.openAccount();
    await payments.deposit(account, 2_500);
    await payments.deposit(account, 700);
    const created = await payments.create({
      amount: 10_000,
      currency: 'USD',
      capture_method: 'manual',
      source: card('tok_visa'),
      customer: 'cus_stream',
    });
    expect(created.statusCode).toBe(201);
    const paymentId = created.json<{ id: string }>().id;
    expect((await payments.act(paymentId, 'capture', { amount: 10_000 })).statusCode).toBe(200);
    const refund = await payments.act(paymentId, 'refunds', { amount: 2_500 }, { 'idempotency-key': 'refund-1' });
    expect(refund.statusCode).toBe(201);

    const events = await eventsOf(merchant.id);
    expect(events.map((event) => event.type)).toEqual([
      'deposit.succeeded',
      'deposit.succeeded',
      'payment.created',
      'payment.requires_capture',
      'payment.succeeded',
      'refund.succeeded',
    ]);
    const ids = events.map((event) => event.id);
    await consumer.waitFor(ids);

    const messages = messagesOf(ids);
    // Exactly once per event id, in the order the events were created (so per resource too).
    expect(messages.map((message) => message.msgId)).toEqual(ids);
    expect(messages.map((message) => message.subject)).toEqual(events.map((event) => `payments.${event.type}`));
    for (const message of messages) {
      const fromApi = await stack.app.inject({
        method: 'GET',
        url: `/v1/events/${message.msgId}`,
        headers: bearer(merchant.apiKey),
      });
      expect(fromApi.statusCode).toBe(200);
      expect(message.body).toEqual(fromApi.json());
    }
    // The payment's own events, in its order (the refund's event is about the refund).
    const ofPayment = messages.filter((message) => message.body.data.object.id === paymentId);
    expect(ofPayment.map((message) => message.body.type)).toEqual([
      'payment.created',
      'payment.requires_capture',
      'payment.succeeded',
    ]);
    await expect
      .poll(async () => (await eventsOf(merchant.id)).every((event) => event.publishedAt !== null), poll)
      .toBe(true);
  });

  it('a broker outage delays the stream, never the webhooks; it catches up without loss or duplicates', async () => {
    const merchant = await stack.merchant();
    const payments = paymentsClient(stack, merchant);
    const endpoint = await stack.app.inject({
      method: 'POST',
      url: '/v1/webhook_endpoints',
      headers: bearer(merchant.apiKey),
      payload: { url: receiver.url, events: ['deposit.succeeded'] },
    });
    expect(endpoint.statusCode).toBe(201);
    const account = await payments.openAccount();
    await payments.deposit(account, 100);
    const [before] = await eventsOf(merchant.id);
    await consumer.waitFor([before!.id]);
    await expect.poll(async () => (await eventsOf(merchant.id))[0]?.publishedAt, poll).not.toBeNull();

    await nats.stop();
    const outageStartedAt = Date.now();
    await payments.deposit(account, 200);
    await payments.deposit(account, 300);
    await payments.deposit(account, 400);
    const during = (await eventsOf(merchant.id)).slice(1);
    expect(during.map((event) => event.type)).toEqual(['deposit.succeeded', 'deposit.succeeded', 'deposit.succeeded']);

    // The webhooks go out while the broker is down.
    await expect
      .poll(() => [...receiver.eventIds].sort(), poll)
      .toEqual([before!.id, ...during.map((e) => e.id)].sort());
    // A publisher that crashed after JetStream's acknowledgement, before marking the event: it
    // publishes the event again, and the stream drops the copy by its Nats-Msg-Id.
    await stack.prisma.event.update({ where: { id: before!.id }, data: { publishedAt: null } });

    // The lag shows in the stats, and nothing of this merchant's reached the stream.
    const outageMs = Date.now() - outageStartedAt;
    const stats = await stack.app.inject({ method: 'GET', url: '/v1/admin/stats', headers: bearer(stack.adminApiKey) });
    expect(stats.statusCode).toBe(200);
    const eventStream = stats.json<{
      object: string;
      event_stream: { unpublished: number; oldest_unpublished_age_ms: number; last_published_at: string | null };
    }>();
    expect(eventStream.object).toBe('stats');
    // Other suites share the database: their events count too, so these are lower bounds.
    expect(eventStream.event_stream.unpublished).toBeGreaterThanOrEqual(4);
    expect(eventStream.event_stream.oldest_unpublished_age_ms).toBeGreaterThanOrEqual(outageMs);
    expect(eventStream.event_stream.last_published_at).not.toBeNull();
    expect((await eventsOf(merchant.id)).filter((event) => event.publishedAt === null)).toHaveLength(4);
    // A merchant key does not open the operator's figures.
    const forbidden = await stack.app.inject({
      method: 'GET',
      url: '/v1/admin/stats',
      headers: bearer(merchant.apiKey),
    });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ error: { code: 'permission_denied' } });

    const restartedAt = Date.now();
    nats = await startNatsServer({ port: natsPort, storeDir });
    await expect
      .poll(async () => (await eventsOf(merchant.id)).every((event) => event.publishedAt !== null), poll)
      .toBe(true);
    const ids = [before!.id, ...during.map((event) => event.id)];
    await consumer.waitFor(ids);
    // Anything more the stream would hand us (a copy of `before`) arrives within this wait.
    await consumer.fetchAvailable(1_000);

    const messages = messagesOf(ids);
    expect(messages.map((message) => message.msgId)).toEqual(ids);
    const streamInfo = await consumer.jsm.streams.info(stream);
    expect(streamInfo.state.messages).toBe(new Set(consumer.received.map((message) => message.msgId)).size);
    expect(consumer.received).toHaveLength(streamInfo.state.messages);

    const after = await stack.app.inject({ method: 'GET', url: '/v1/admin/stats', headers: bearer(stack.adminApiKey) });
    const lastPublishedAt = after.json<{ event_stream: { last_published_at: string } }>().event_stream
      .last_published_at;
    expect(Date.parse(lastPublishedAt)).toBeGreaterThanOrEqual(restartedAt);
  });
});
