import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { PrismaClient } from '../db/prisma.ts';
import type { Config } from '../config.ts';
import { ensureEventStream, eventSubject } from '../nats/event-stream.ts';
import { presentEvent } from './present.ts';
import { openEvent } from './event-secrets.ts';
import type { ColumnCipher } from '../crypto/column-cipher.ts';
import { startPollLoop, stderrLogger, type PollLogger } from './poll-loop.ts';

// The event stream publisher: every outbox event also goes to NATS JetStream, on its own
// cursor (events.published_at), so the webhook relay (dispatched_at) never waits on the broker.
// Each pass publishes up to eventPublishBatchSize unpublished events one at a time in creation
// order, each with Nats-Msg-Id = event id, and marks published only those JetStream
// acknowledged, stopping at the first failure so a resource's events never overtake each
// other. At least once: a crash between the acknowledgement and the mark publishes again,
// and JetStream drops that copy within the stream's duplicate window. A failing pass (broker
// down, publish timeout) is retried with exponential backoff. Each message is the event's public
// shape, its sensitive fields decrypted (src/events/event-secrets.ts).

export interface EventStreamPublisher {
  /** Stops polling, waits for the pass in progress and closes the NATS connection. */
  stop(): Promise<void>;
}

export interface PublisherDependencies {
  prisma: PrismaClient;
  config: Config;
  /** The NATS server(s); npm start and the tests pass the one they started. */
  natsUrl: string;
  /** Decrypts the events' sensitive fields. */
  cipher: ColumnCipher;
  log?: PollLogger;
  /** Only these merchants' events (default: all); lets test suites share one database. */
  merchantIds?: () => readonly string[];
}

export interface PublishPassResult {
  /** Unpublished events read in this pass. */
  read: number;
  /** Events JetStream acknowledged and we marked published (duplicates it dropped included). */
  published: number;
}

/** A connection with the stream ensured; reopened after the client gives up on the server. */
export interface StreamLink {
  current(): Promise<JetStreamClient>;
  /** After a failure: check the stream again at the next pass (it may have been lost). */
  invalidate(): void;
  close(): Promise<void>;
}

export function createStreamLink(natsUrl: string, config: Config): StreamLink {
  let connection: NatsConnection | undefined;
  let client: JetStreamClient | undefined;
  return {
    async current() {
      if (client && connection && !connection.isClosed()) return client;
      if (!connection || connection.isClosed()) {
        connection = await connect({
          servers: natsUrl.split(','),
          name: 'payments-event-publisher',
          timeout: config.natsConnectTimeoutMs,
          // The client keeps reconnecting by itself; our passes fail (and back off) meanwhile.
          maxReconnectAttempts: -1,
          reconnectTimeWait: config.eventPublishInitialRetryMs,
        });
      }
      await ensureEventStream(await jetstreamManager(connection, { timeout: config.natsConnectTimeoutMs }), config);
      client = jetstream(connection, { timeout: config.eventPublishTimeoutMs });
      return client;
    },
    invalidate() {
      client = undefined;
    },
    async close() {
      await connection?.close();
    },
  };
}

/** One pass of the publisher: the stream ensured, then one batch published in order. */
export async function publishOnce(deps: PublisherDependencies, link: StreamLink): Promise<PublishPassResult> {
  const { prisma, config } = deps;
  // The stream is ensured first, so it exists from the first pass on, even before any event.
  let js: JetStreamClient;
  try {
    js = await link.current();
  } catch (error) {
    link.invalidate();
    throw error;
  }
  const merchantIds = deps.merchantIds?.();
  if (merchantIds && merchantIds.length === 0) return { read: 0, published: 0 };
  const events = await prisma.event.findMany({
    where: { publishedAt: null, ...(merchantIds ? { merchantId: { in: [...merchantIds] } } : {}) },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: config.eventPublishBatchSize,
    select: { id: true, type: true, data: true, createdAt: true },
  });
  if (events.length === 0) return { read: 0, published: 0 };

  const acknowledged: string[] = [];
  try {
    for (const event of events) {
      await js.publish(eventSubject(config, event.type), JSON.stringify(presentEvent(openEvent(deps.cipher, event))), {
        msgID: event.id,
        timeout: config.eventPublishTimeoutMs,
      });
      acknowledged.push(event.id);
    }
  } catch (error) {
    link.invalidate();
    throw error;
  } finally {
    // What JetStream acknowledged is marked even when a later publish failed.
    if (acknowledged.length > 0) {
      await prisma.event.updateMany({
        where: { id: { in: acknowledged }, publishedAt: null },
        data: { publishedAt: new Date() },
      });
    }
  }
  return { read: events.length, published: acknowledged.length };
}

export function startEventStreamPublisher(deps: PublisherDependencies): EventStreamPublisher {
  const log = deps.log ?? stderrLogger('event stream');
  const link = createStreamLink(deps.natsUrl, deps.config);
  const loop = startPollLoop({
    intervalMs: deps.config.eventPublishIntervalMs,
    log,
    retry: { initialMs: deps.config.eventPublishInitialRetryMs, maxMs: deps.config.eventPublishMaxRetryMs },
    pass: async () => {
      const result = await publishOnce(deps, link);
      // A full batch means a backlog: go again at once.
      return result.read >= deps.config.eventPublishBatchSize;
    },
  });
  return {
    async stop() {
      await loop.stop();
      await link.close();
    },
  };
}
