import type { Client } from '@temporalio/client';
import type { PrismaClient } from '../db/prisma.ts';
import type { Config } from '../config.ts';
import { newId } from '../ids.ts';
import { subscribes } from '../webhooks/endpoints.ts';
import { startDeliveryWorkflow } from '../webhooks/deliveries.ts';
import { startPollLoop, stderrLogger as pollStderrLogger, type PollLogger } from './poll-loop.ts';

// The outbox relay: every relayIntervalMs, up to relayBatchSize undispatched events become one
// WebhookDelivery per subscribed endpoint (generation 0) and one delivery workflow each, then
// the event is marked dispatched. Every step is idempotent (unique (event, endpoint,
// generation), workflow id = delivery id), so a crash at any point, or several relays at
// once, at worst repeat work and never deliver twice. No network call happens inside a
// database transaction; a failing pass is logged and the next tick tries again.

export interface EventRelay {
  /** Stops polling and waits for the pass in progress. */
  stop(): Promise<void>;
}

export type RelayLogger = PollLogger;

export interface RelayDependencies {
  prisma: PrismaClient;
  temporal: Client;
  config: Config;
  log?: RelayLogger;
  /**
   * Only these merchants' events (default: all). Lets test suites that share one database but
   * run their own workers and settings dispatch only the events of the merchants they made.
   */
  merchantIds?: () => readonly string[];
}

/** Workflow starts in flight at once during a pass. */
const startConcurrency = 16;

const stderrLogger: RelayLogger = pollStderrLogger('event relay');

export interface RelayPassResult {
  /** Events read in this pass. */
  read: number;
  dispatched: number;
  deliveriesStarted: number;
}

/** One pass of the relay; exported so tests and scripts can drive it without the timer. */
export async function relayOnce(deps: RelayDependencies): Promise<RelayPassResult> {
  const { prisma, temporal, config } = deps;
  const log = deps.log ?? stderrLogger;
  const merchantIds = deps.merchantIds?.();
  if (merchantIds && merchantIds.length === 0) return { read: 0, dispatched: 0, deliveriesStarted: 0 };
  const events = await prisma.event.findMany({
    where: { dispatchedAt: null, ...(merchantIds ? { merchantId: { in: [...merchantIds] } } : {}) },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: Math.max(1, config.relayBatchSize),
    select: { id: true, merchantId: true, type: true, createdAt: true },
  });
  if (events.length === 0) return { read: 0, dispatched: 0, deliveriesStarted: 0 };

  // The platform's own events (no merchant) go to the event stream only: no endpoint hears them.
  const merchantsOfEvents = new Set(events.flatMap((event) => (event.merchantId === null ? [] : [event.merchantId])));
  const endpoints = await prisma.webhookEndpoint.findMany({
    where: { merchantId: { in: [...merchantsOfEvents] }, status: 'enabled' },
    select: { id: true, merchantId: true, events: true, createdAt: true },
  });
  // An endpoint hears about what happens from its creation on, like Stripe's.
  const wanted = events.flatMap((event) =>
    endpoints
      .filter(
        (endpoint) =>
          endpoint.merchantId === event.merchantId &&
          endpoint.createdAt <= event.createdAt &&
          subscribes(endpoint.events, event.type),
      )
      .map((endpoint) => ({ eventId: event.id, endpointId: endpoint.id })),
  );
  if (wanted.length > 0) {
    await prisma.webhookDelivery.createMany({
      data: wanted.map((pair) => ({ id: newId('wd'), ...pair, generation: 0 })),
      skipDuplicates: true,
    });
  }
  // Whoever created them (this pass, an earlier crashed one or another relay), start the
  // pending ones: a start is idempotent, a finished delivery needs nothing.
  const deliveries = await prisma.webhookDelivery.findMany({
    where: { eventId: { in: events.map((event) => event.id) }, generation: 0, status: 'pending' },
    select: { id: true, eventId: true },
  });

  const failedEvents = new Set<string>();
  let deliveriesStarted = 0;
  for (let index = 0; index < deliveries.length; index += startConcurrency) {
    await Promise.all(
      deliveries.slice(index, index + startConcurrency).map(async (delivery) => {
        try {
          await startDeliveryWorkflow(temporal, config, delivery.id);
          deliveriesStarted++;
        } catch (err) {
          failedEvents.add(delivery.eventId);
          log.error({ err, deliveryId: delivery.id }, 'could not start delivery workflow; retried next pass');
        }
      }),
    );
  }

  const done = events.filter((event) => !failedEvents.has(event.id)).map((event) => event.id);
  const marked =
    done.length === 0
      ? { count: 0 }
      : await prisma.event.updateMany({
          where: { id: { in: done }, dispatchedAt: null },
          data: { dispatchedAt: new Date() },
        });
  return { read: events.length, dispatched: marked.count, deliveriesStarted };
}

export function startEventRelay(deps: RelayDependencies): EventRelay {
  const log = deps.log ?? stderrLogger;
  return startPollLoop({
    intervalMs: deps.config.relayIntervalMs,
    log,
    pass: async () => {
      const result = await relayOnce({ ...deps, log });
      // A full batch means a backlog: go again at once instead of waiting a whole interval.
      return result.read >= Math.max(1, deps.config.relayBatchSize) && result.dispatched > 0;
    },
  });
}
