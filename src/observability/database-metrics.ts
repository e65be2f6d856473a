import type pg from 'pg';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from './metrics.ts';

// Gauges read at scrape time from the process's connection pool and from PostgreSQL: the
// backlogs are rows, so every process that can reach the database reports the same numbers.
// createPrisma (src/db/prisma.ts) registers each client it makes; one whose pool has ended
// (after $disconnect) is skipped and forgotten, never reconnected by a scrape.

interface WatchedDatabase {
  prisma: PrismaClient;
  pool: pg.Pool;
}

const watched = new Set<WatchedDatabase>();

export function watchDatabase(prisma: PrismaClient, pool: pg.Pool): void {
  watched.add({ prisma, pool });
}

function live(): WatchedDatabase[] {
  for (const entry of watched) if (entry.pool.ended) watched.delete(entry);
  return [...watched];
}

export const dbPoolConnections = new Gauge({
  name: 'db_pool_connections',
  help: 'PostgreSQL pool connections by state: total (open), idle, waiting (requests queued for a connection), max.',
  labelNames: ['state'] as const,
  registers: [metricsRegistry],
  collect() {
    const pools = live().map((entry) => entry.pool);
    const sum = (read: (pool: pg.Pool) => number) => pools.reduce((total, pool) => total + read(pool), 0);
    this.set(
      { state: 'total' },
      sum((pool) => pool.totalCount),
    );
    this.set(
      { state: 'idle' },
      sum((pool) => pool.idleCount),
    );
    this.set(
      { state: 'waiting' },
      sum((pool) => pool.waitingCount),
    );
    this.set(
      { state: 'max' },
      sum((pool) => pool.options.max ?? 10),
    );
  },
});

interface BacklogRow {
  inbox_backlog: bigint;
  inbox_oldest_s: number | null;
  outbox_backlog: bigint;
  outbox_oldest_s: number | null;
}

/** A scrape never waits longer than this for the database (Prometheus' own timeout is 10 s). */
const backlogReadTimeoutMs = 2_000;

function timeout(ms: number): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref());
}

/** One query per scrape for all backlog gauges, each on a partial index of the waiting rows. */
async function readBacklogs(): Promise<BacklogRow | undefined> {
  const [entry] = live();
  if (!entry) return undefined;
  const [row] = await Promise.race([
    entry.prisma.$queryRaw<BacklogRow[]>`
    SELECT
      (SELECT count(*) FROM webhook_events WHERE workflow_started_at IS NULL) AS inbox_backlog,
      (SELECT EXTRACT(EPOCH FROM now() - min(received_at))::float8 FROM webhook_events
        WHERE workflow_started_at IS NULL) AS inbox_oldest_s,
      (SELECT count(*) FROM events WHERE dispatched_at IS NULL) AS outbox_backlog,
      (SELECT EXTRACT(EPOCH FROM now() - min(created_at))::float8 FROM events
        WHERE dispatched_at IS NULL) AS outbox_oldest_s`,
    timeout(backlogReadTimeoutMs),
  ]);
  return row;
}

const backlogReadFailures = new Counter({
  name: 'metrics_backlog_read_failures_total',
  help: 'Scrapes whose backlog query failed (database unreachable or slow); the backlog gauges kept their last values.',
  registers: [metricsRegistry],
});

// The four gauges share one read: the first collector of a scrape starts it, the others join.
// A failed read leaves them as they were: the scrape still answers, with the pool's numbers.
let pending: Promise<BacklogRow | undefined> | undefined;
function backlogs(): Promise<BacklogRow | undefined> {
  pending ??= readBacklogs()
    .catch(() => {
      backlogReadFailures.inc();
      return undefined;
    })
    .finally(() => {
      pending = undefined;
    });
  return pending;
}

export const webhookInboxBacklog = new Gauge({
  name: 'webhook_inbox_backlog',
  help: 'Provider webhooks recorded whose workflow has not started yet (the sweeper starts them).',
  registers: [metricsRegistry],
  async collect() {
    const row = await backlogs();
    if (row) this.set(Number(row.inbox_backlog));
  },
});

export const webhookInboxOldestAge = new Gauge({
  name: 'webhook_inbox_oldest_age_seconds',
  help: 'Age of the oldest provider webhook waiting for its workflow; 0 when none waits.',
  registers: [metricsRegistry],
  async collect() {
    const row = await backlogs();
    if (row) this.set(row.inbox_oldest_s ?? 0);
  },
});

export const eventRelayBacklog = new Gauge({
  name: 'event_relay_backlog',
  help: 'Outbox events not yet handed to delivery workflows by the relay.',
  registers: [metricsRegistry],
  async collect() {
    const row = await backlogs();
    if (row) this.set(Number(row.outbox_backlog));
  },
});

export const eventRelayLag = new Gauge({
  name: 'event_relay_lag_seconds',
  help: 'Age of the oldest outbox event the relay has not dispatched; 0 when it is caught up.',
  registers: [metricsRegistry],
  async collect() {
    const row = await backlogs();
    if (row) this.set(row.outbox_oldest_s ?? 0);
  },
});
