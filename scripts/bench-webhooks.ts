// Webhook intake benchmark: `npm run bench:webhooks`.
//
// Measures how fast POST /v1/webhooks/stripe acknowledges signed provider events: verify the
// Stripe signature on the raw body, start workflow `webhook:stripe:<event id>` with
// REJECT_DUPLICATE, answer 200. The whole stack runs for real: a Temporal dev server (in
// memory, free ports), PostgreSQL (a fresh, migrated bench database), a worker on its own task
// queue (so every started webhook workflow really runs: record the event, mark it) and the API
// from buildApp() listening on a free port. API and worker share this process, as in
// `npm start`.
//
// Baseline, same process and same requests: a bare Fastify server whose route only verifies the
// same signature on the raw body and answers 200, with no Temporal behind it.
//
// Load: autocannon in a child process (so the load generator does not share the servers' event
// loop), driving pre-generated signed Stripe events. Mixes: "paced" (new events at a fixed
// rate the stack can keep up with), "unique" (every request a new event, back to back) and
// "dup50" (half the requests re-deliver an event that was already acknowledged: the dedupe
// path). After each run against the API the bench waits until every started workflow has
// finished, so runs do not overlap. At the end it checks that webhook_events holds exactly one
// row per unique event id that reached the API, that Temporal ran exactly one workflow per
// event, and that every re-delivery was answered `duplicate: true`.
//
// Database: DATABASE_URL's server when set, otherwise an embedded PostgreSQL in
// .data/bench-webhooks-postgres. Temporal: TEMPORAL_ADDRESS when set, otherwise a dev server.
//
// Knobs (environment): BENCH_SECONDS (default 5), BENCH_WARMUP_SECONDS (default 1),
// BENCH_CONNECTIONS (default "10,50"), BENCH_PACED_RATE (req/s, default 20; 0 skips the row),
// BENCH_DUPLICATE_SHARE (default 0.5), BENCH_EVENT_TYPE (default customer.created, which the
// workflow records and marks ignored; charge.* types carry an unknown charge and park for
// 100 ms before being marked unmatched), BENCH_EVENTS (pre-generated events per target,
// default 20000), BENCH_DRAIN_TIMEOUT_SECONDS (default 60).

import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import type { Client } from '@temporalio/client';
import { buildApp } from '../src/api/build.ts';
import { loadConfig, requireKeyring, type Config } from '../src/config.ts';
import { createDatabase, dataDir, dropDatabase, withDatabase } from '../src/db/database.ts';
import { startEmbeddedPostgres, type PostgresServer } from '../src/db/embedded-postgres.ts';
import { applyMigrations } from '../src/db/migrate.ts';
import { createPrisma, type PrismaClient } from '../src/db/prisma.ts';
import { createProviderGateway } from '../src/providers/index.ts';
import { stripeSignatureHeader } from '../src/providers/webhook-signatures.ts';
import { connectClient } from '../src/temporal/client.ts';
import { ensureTemporal, freePort, type TemporalServer } from '../src/temporal/dev-server.ts';
import { verifyInboundSignature } from '../src/webhooks/inbound-signature.ts';
import { createWorker } from '../src/worker.ts';
import { bundleWorkflows } from '../src/temporal/workflow-bundle.ts';
import {
  findPostmaster,
  machineCpu,
  numberFromEnv,
  packageVersion,
  percentile,
  readProcStat,
  type ProcStat,
  cleanupOnSignal,
  benchKeyring,
} from './bench-support.ts';
import { formatRow, header, type Column } from './bench-table.ts';
import { writeBenchResult, type HeadlineFigure } from './bench-results.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const scriptPath = fileURLToPath(import.meta.url);
const loadgenRole = 'bench-webhooks-loadgen';

const seconds = numberFromEnv('BENCH_SECONDS', 5);
const warmupSeconds = numberFromEnv('BENCH_WARMUP_SECONDS', 1);
const duplicateShare = Math.min(1, numberFromEnv('BENCH_DUPLICATE_SHARE', 0.5));
const eventType = process.env.BENCH_EVENT_TYPE?.trim() || 'customer.created';
const eventsPerTarget = Math.floor(numberFromEnv('BENCH_EVENTS', 20_000));
const drainTimeoutMs = numberFromEnv('BENCH_DRAIN_TIMEOUT_SECONDS', 60) * 1000;
const pacedRate = process.env.BENCH_PACED_RATE === '0' ? 0 : Math.floor(numberFromEnv('BENCH_PACED_RATE', 20));
const pacedConnections = 10;
const connectionLevels = (process.env.BENCH_CONNECTIONS ?? '10,50')
  .split(',')
  .map((value) => Number.parseInt(value.trim(), 10))
  .filter((value) => Number.isInteger(value) && value > 0);
/** For charge.* events: how long a workflow parks an unknown charge before giving up. */
const unmatchedMs = 100;

const began = performance.now();
const log = (line: string): void => {
  process.stderr.write(`[bench +${((performance.now() - began) / 1000).toFixed(1)}s] ${line}\n`);
};

// ---------------------------------------------------------------------------------------------
// Messages between the bench and its load generator
// ---------------------------------------------------------------------------------------------

type Target = 'api' | 'baseline';
type Mix = 'paced' | 'unique' | 'dup50';

interface InitMessage {
  type: 'init';
  secret: string;
  tag: string;
  eventType: string;
  events: number;
}

interface RunMessage {
  type: 'run';
  runId: number;
  target: Target;
  url: string;
  connections: number;
  seconds: number;
  /** Requests per second over all connections; undefined: each connection sends back to back. */
  rate: number | undefined;
  duplicateShare: number;
}

type ToLoadgen = InitMessage | RunMessage | { type: 'exit' };

interface LoadResult {
  runId: number;
  /** autocannon's measured duration, seconds. */
  duration: number;
  responses: number;
  ok: number;
  non2xx: number;
  /** Status code → count, for the non-2xx answers. */
  statuses: Record<string, number>;
  firstNon2xxBody: string | undefined;
  errors: number;
  timeouts: number;
  /** Latency of every answered request (any status), milliseconds. */
  p50: number;
  p975: number;
  p99: number;
  max: number;
  uniqueSent: number;
  /** Unique events acknowledged with duplicate: false (their ids, API runs only). */
  uniqueAckedIds: string[];
  /** Unique events sent whose answer never came (cut at the end of the run, or timed out). */
  uniqueUnansweredIds: string[];
  /** Unique events answered duplicate: true; must stay 0. */
  uniqueAnsweredDuplicate: number;
  duplicateSent: number;
  duplicateAcked: number;
  duplicateAnsweredDuplicate: number;
  /** The load generator's own CPU time during the run, ms. */
  cpuMs: number;
  /** Events generated on the fly because the pre-generated pool ran out. */
  generatedOnTheFly: number;
}

type FromLoadgen =
  { type: 'ready'; generateMs: number } | { type: 'result'; result: LoadResult } | { type: 'error'; message: string };

// ---------------------------------------------------------------------------------------------
// Load generator (child process)
// ---------------------------------------------------------------------------------------------

interface SignedEvent {
  id: string;
  body: string;
  signature: string;
}

function stripeEvent(init: InitMessage, target: Target, n: number): SignedEvent {
  const created = Math.floor(Date.now() / 1000);
  const id = `evt_bench_${init.tag}_${target === 'api' ? 'a' : 'b'}${n}`;
  const object = init.eventType.startsWith('charge.')
    ? {
        id: `ch_bench_${init.tag}_${n}`,
        object: 'charge',
        amount: 2_000,
        amount_captured: 2_000,
        amount_refunded: 0,
        captured: true,
        refunded: false,
        status: 'succeeded',
        currency: 'usd',
        payment_method_details: { card: { brand: 'visa', last4: '4242' } },
      }
    : { id: `cus_bench_${init.tag}_${n}`, object: 'customer', email: `bench${n}@example.com`, livemode: false };
  const body = JSON.stringify({
    id,
    object: 'event',
    api_version: '2024-06-20',
    created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: init.eventType,
    data: { object },
  });
  return { id, body, signature: stripeSignatureHeader(init.secret, body, created) };
}

interface EventPool {
  events: SignedEvent[];
  /** Next never-sent event (API: fresh events only; baseline: cycles through the pool). */
  cursor: number;
  /** Indices of events acknowledged as new: the candidates for re-delivery. */
  delivered: number[];
  generatedOnTheFly: number;
}

interface RequestContext {
  index?: number;
  duplicate?: boolean;
}

async function loadgenMain(): Promise<void> {
  const send = (message: FromLoadgen): void => {
    process.send?.(message);
  };
  let init: InitMessage | undefined;
  const pools = new Map<Target, EventPool>();

  const runOnce = async (run: RunMessage, setup: InitMessage): Promise<LoadResult> => {
    const pool = pools.get(run.target);
    if (!pool) throw new Error(`no pool for ${run.target}`);
    const isApi = run.target === 'api';
    const latencies: number[] = [];
    const sentUnique = new Set<number>();
    const ackedIds: string[] = [];
    const statuses: Record<string, number> = {};
    let firstNon2xxBody: string | undefined;
    let uniqueSent = 0;
    let uniqueAnsweredDuplicate = 0;
    let duplicateSent = 0;
    let duplicateAcked = 0;
    let duplicateAnsweredDuplicate = 0;

    const nextFresh = (): number => {
      if (!isApi) {
        const index = pool.cursor % pool.events.length;
        pool.cursor++;
        return index;
      }
      if (pool.cursor >= pool.events.length) {
        pool.events.push(stripeEvent(setup, run.target, pool.events.length));
        pool.generatedOnTheFly++;
      }
      return pool.cursor++;
    };

    const request: autocannon.Request = {
      method: 'POST',
      path: '/v1/webhooks/stripe',
      setupRequest: (req, context) => {
        const ctx = context as RequestContext;
        const duplicate = run.duplicateShare > 0 && pool.delivered.length > 0 && Math.random() < run.duplicateShare;
        const index = duplicate
          ? (pool.delivered[Math.floor(Math.random() * pool.delivered.length)] as number)
          : nextFresh();
        ctx.index = index;
        ctx.duplicate = duplicate;
        if (duplicate) duplicateSent++;
        else {
          uniqueSent++;
          if (isApi) sentUnique.add(index);
        }
        const event = pool.events[index] as SignedEvent;
        return {
          ...req,
          body: event.body,
          headers: { 'content-type': 'application/json', 'stripe-signature': event.signature },
        };
      },
      onResponse: (status, body, context) => {
        const ctx = context as RequestContext;
        if (ctx.index === undefined) return;
        const index = ctx.index;
        if (status < 200 || status >= 300) {
          statuses[status] = (statuses[status] ?? 0) + 1;
          firstNon2xxBody ??= body.slice(0, 300);
          return;
        }
        const answeredDuplicate = body.includes('"duplicate":true');
        if (ctx.duplicate) {
          duplicateAcked++;
          if (answeredDuplicate) duplicateAnsweredDuplicate++;
          return;
        }
        if (answeredDuplicate) uniqueAnsweredDuplicate++;
        else {
          pool.delivered.push(index);
          if (isApi) {
            sentUnique.delete(index);
            ackedIds.push((pool.events[index] as SignedEvent).id);
          }
        }
      },
    };

    const cpuBefore = process.cpuUsage();
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: run.url,
          connections: run.connections,
          duration: run.seconds,
          requests: [request],
          timeout: 10,
          ...(run.rate === undefined ? {} : { overallRate: run.rate }),
        },
        (error: unknown, value: autocannon.Result) => (error ? reject(error as Error) : resolve(value)),
      );
      instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
        latencies.push(responseTime);
      });
    });
    const cpu = process.cpuUsage(cpuBefore);
    const sorted = Float64Array.from(latencies).sort();
    const ok = result['2xx'];
    return {
      runId: run.runId,
      duration: result.duration,
      responses: latencies.length,
      ok,
      non2xx: result.non2xx,
      statuses,
      firstNon2xxBody,
      errors: result.errors,
      timeouts: result.timeouts,
      p50: percentile(sorted, 0.5),
      p975: percentile(sorted, 0.975),
      p99: percentile(sorted, 0.99),
      max: sorted.length > 0 ? (sorted[sorted.length - 1] ?? Number.NaN) : Number.NaN,
      uniqueSent,
      uniqueAckedIds: ackedIds,
      uniqueUnansweredIds: [...sentUnique].map((index) => (pool.events[index] as SignedEvent).id),
      uniqueAnsweredDuplicate,
      duplicateSent,
      duplicateAcked,
      duplicateAnsweredDuplicate,
      cpuMs: (cpu.user + cpu.system) / 1000,
      generatedOnTheFly: pool.generatedOnTheFly,
    };
  };

  let queue = Promise.resolve();
  process.on('message', (message: ToLoadgen) => {
    queue = queue.then(async () => {
      try {
        if (message.type === 'exit') {
          process.disconnect();
          return;
        }
        if (message.type === 'init') {
          init = message;
          const began = performance.now();
          for (const target of ['api', 'baseline'] as const) {
            const events = Array.from({ length: message.events }, (_, n) => stripeEvent(message, target, n));
            pools.set(target, { events, cursor: 0, delivered: [], generatedOnTheFly: 0 });
          }
          send({ type: 'ready', generateMs: performance.now() - began });
          return;
        }
        if (!init) throw new Error('run before init');
        send({ type: 'result', result: await runOnce(message, init) });
      } catch (error) {
        send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Bench side: the load generator handle
// ---------------------------------------------------------------------------------------------

interface Loadgen {
  child: ChildProcess;
  request(message: ToLoadgen): Promise<FromLoadgen>;
  stop(): Promise<void>;
}

function startLoadgen(): Loadgen {
  const child = fork(scriptPath, [], {
    cwd: projectRoot,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_WEBHOOKS_ROLE: loadgenRole },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  const waiting: { resolve: (message: FromLoadgen) => void; reject: (error: Error) => void }[] = [];
  child.on('message', (message: FromLoadgen) => waiting.shift()?.resolve(message));
  void exit.then(() => {
    for (const waiter of waiting.splice(0)) waiter.reject(new Error('load generator exited'));
  });
  return {
    child,
    request(message) {
      if (exited) return Promise.reject(new Error('load generator exited'));
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.send(message);
      });
    },
    async stop() {
      if (exited) return;
      if (child.connected) child.send({ type: 'exit' } satisfies ToLoadgen);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

async function runLoad(loadgen: Loadgen, run: RunMessage): Promise<LoadResult> {
  const answer = await loadgen.request(run);
  if (answer.type === 'error') throw new Error(`load generator: ${answer.message}`);
  if (answer.type !== 'result') throw new Error(`load generator answered ${answer.type}`);
  return answer.result;
}

// ---------------------------------------------------------------------------------------------
// Baseline server
// ---------------------------------------------------------------------------------------------

/** Only what a webhook receiver cannot skip: keep the raw bytes, check the signature, answer. */
async function startBaseline(config: Config): Promise<{ server: FastifyInstance; url: string }> {
  const server = Fastify({ logger: false, bodyLimit: config.bodyLimitBytes });
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  server.post('/v1/webhooks/:provider', async (request, reply) => {
    const rawBody = typeof request.body === 'string' ? request.body : '';
    const signed = verifyInboundSignature({
      provider: 'stripe',
      headers: request.headers,
      rawBody,
      secrets: config.webhookSecretsStripe,
      toleranceSeconds: config.webhookToleranceSeconds,
      nowMs: Date.now(),
    });
    if (!signed) return reply.code(400).send({ error: { type: 'webhook_signature_invalid' } });
    return { received: true, duplicate: false };
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, url: `http://127.0.0.1:${(server.server.address() as AddressInfo).port}` };
}

// ---------------------------------------------------------------------------------------------
// CPU accounting
// ---------------------------------------------------------------------------------------------

async function allProcStats(): Promise<Map<number, ProcStat>> {
  const stats = new Map<number, ProcStat>();
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return stats;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readProcStat(Number(entry));
    if (stat) stats.set(Number(entry), stat);
  }
  return stats;
}

interface CpuSample {
  atMs: number;
  self: number;
  temporal: number;
  postgres: number;
  machineBusy: number;
  machineTotal: number;
}

interface CpuShare {
  /** Cores in use on average over the window (2 = both vCPUs saturated). */
  self: number;
  loadgen: number;
  temporal: number;
  postgres: number;
  machine: number;
  other: number;
}

class CpuMeter {
  constructor(
    private readonly temporalPid: number | undefined,
    private readonly postmasterPid: number | undefined,
  ) {}

  async sample(): Promise<CpuSample> {
    const own = process.cpuUsage();
    const stats = this.temporalPid !== undefined || this.postmasterPid !== undefined ? await allProcStats() : new Map();
    let postgres = Number.NaN;
    if (this.postmasterPid !== undefined) {
      postgres = 0;
      for (const [pid, stat] of stats) {
        if (pid === this.postmasterPid || stat.ppid === this.postmasterPid) postgres += stat.cpuMs;
      }
    }
    const temporal = this.temporalPid === undefined ? Number.NaN : (stats.get(this.temporalPid)?.cpuMs ?? Number.NaN);
    const machine = machineCpu();
    return {
      atMs: performance.now(),
      self: (own.user + own.system) / 1000,
      temporal,
      postgres,
      machineBusy: machine.busy,
      machineTotal: machine.total,
    };
  }

  /** CPU milliseconds of this process, Temporal and PostgreSQL between two samples (the ones measured). */
  static serverMs(before: CpuSample, after: CpuSample): number {
    const part = (value: number): number => (Number.isFinite(value) ? Math.max(0, value) : 0);
    return (
      part(after.self - before.self) + part(after.temporal - before.temporal) + part(after.postgres - before.postgres)
    );
  }

  static share(before: CpuSample, after: CpuSample, loadgenMs: number): CpuShare {
    const wallMs = Math.max(1, after.atMs - before.atMs);
    const cores = os.availableParallelism();
    const machineTotal = Math.max(1, after.machineTotal - before.machineTotal);
    const machine = ((after.machineBusy - before.machineBusy) / machineTotal) * cores;
    const self = (after.self - before.self) / wallMs;
    const temporal = (after.temporal - before.temporal) / wallMs;
    // A backend that exits between samples takes its CPU time with it: never below zero.
    const postgres = Math.max(0, after.postgres - before.postgres) / wallMs;
    const loadgen = loadgenMs / wallMs;
    const known =
      self + loadgen + (Number.isFinite(temporal) ? temporal : 0) + (Number.isFinite(postgres) ? postgres : 0);
    return { self, loadgen, temporal, postgres, machine, other: Math.max(0, machine - known) };
  }
}

async function findTemporalPid(): Promise<number | undefined> {
  for (const [pid, stat] of await allProcStats()) {
    if (stat.ppid === process.pid && stat.comm === 'temporal') return pid;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Workflow progress
// ---------------------------------------------------------------------------------------------

interface Progress {
  /** Rows in webhook_events. */
  recorded: number;
  /** Of which no longer pending: the workflow marked them at its end. */
  done: number;
  /** Webhook workflows on the bench's task queue, per Temporal visibility (NaN if unavailable). */
  workflows: number;
  running: number;
}

interface Drained {
  progress: Progress;
  ms: number;
  ok: boolean;
}

async function countWorkflows(temporal: Client, query: string): Promise<number> {
  return (await temporal.workflow.count(query)).count;
}

class WorkflowWatch {
  private visibilityError: unknown;

  constructor(
    private readonly admin: pg.Pool,
    private readonly temporal: Client,
    private readonly taskQueue: string,
  ) {}

  get visibilityFailure(): unknown {
    return this.visibilityError;
  }

  async progress(): Promise<Progress> {
    const { rows } = await this.admin.query<{ recorded: string; done: string }>(
      `SELECT count(*) AS recorded, count(*) FILTER (WHERE outcome <> 'pending') AS done FROM webhook_events`,
    );
    let workflows = Number.NaN;
    let running = Number.NaN;
    if (this.visibilityError === undefined) {
      try {
        workflows = await countWorkflows(this.temporal, `TaskQueue = '${this.taskQueue}'`);
        running = await countWorkflows(
          this.temporal,
          `TaskQueue = '${this.taskQueue}' AND ExecutionStatus = 'Running'`,
        );
      } catch (error) {
        this.visibilityError = error;
        log(`Temporal visibility unavailable, checking the database only: ${String(error)}`);
      }
    }
    return { recorded: Number(rows[0]?.recorded ?? 0), done: Number(rows[0]?.done ?? 0), workflows, running };
  }

  /**
   * Waits until every acknowledged event is recorded, none is pending, Temporal runs no webhook
   * workflow and has exactly one per recorded event, and that still holds half a second later
   * (a request cut off at the end of a run may still be starting its workflow).
   */
  async drain(acknowledged: number): Promise<Drained> {
    const began = performance.now();
    let settled: Progress | undefined;
    for (;;) {
      const progress = await this.progress();
      const ms = performance.now() - began;
      const quiet =
        progress.recorded >= acknowledged &&
        progress.done === progress.recorded &&
        (Number.isNaN(progress.workflows) || (progress.running === 0 && progress.workflows === progress.recorded));
      if (quiet && settled?.recorded === progress.recorded && settled.workflows === progress.workflows) {
        return { progress, ms, ok: true };
      }
      settled = quiet ? progress : undefined;
      if (ms > drainTimeoutMs) return { progress, ms, ok: false };
      await new Promise((resolve) => setTimeout(resolve, quiet ? 500 : 100));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

const resultColumns: Column[] = [
  { title: 'mix', width: 6, left: true },
  { title: 'conns', width: 5 },
  { title: 'target', width: 8, left: true },
  { title: 'req/s', width: 7 },
  { title: 'p50 ms', width: 7 },
  { title: 'p97.5 ms', width: 8 },
  { title: 'p99 ms', width: 7 },
  { title: 'max ms', width: 7 },
  { title: 'non-2xx', width: 7 },
  { title: 'errors', width: 6 },
  { title: 'api/base', width: 8 },
];

const workflowColumns: Column[] = [
  { title: 'mix', width: 6, left: true },
  { title: 'conns', width: 5 },
  { title: 'new events', width: 10 },
  { title: 're-deliveries', width: 13 },
  { title: 'answered dup', width: 12 },
  { title: 'drain s', width: 7 },
  { title: 'workflows done/s', width: 16 },
  { title: 'server CPU ms/new event', width: 23 },
];

const cpuColumns: Column[] = [
  { title: 'mix', width: 6, left: true },
  { title: 'conns', width: 5 },
  { title: 'target', width: 8, left: true },
  { title: 'bench proc', width: 10 },
  { title: 'loadgen', width: 7 },
  { title: 'temporal', width: 8 },
  { title: 'postgres', width: 8 },
  { title: 'machine', width: 7 },
  { title: 'other', width: 5 },
  { title: 'server µs/req', width: 13 },
];

const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '-');
const rate = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-');
const cores = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '-');
const count = (value: number): string => (Number.isFinite(value) ? value.toLocaleString('en-US') : '?');

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

interface Measured {
  load: LoadResult;
  cpu: CpuShare;
  startedMs: number;
  before: CpuSample;
}

interface Row extends Measured {
  mix: Mix;
  connections: number;
  target: Target;
  drainMs?: number;
  drained?: boolean;
  workflowsDone?: number;
  /** CPU of this process, Temporal and PostgreSQL from the run's start to the end of its drain, per new event. */
  cpuMsPerEvent?: number;
}

interface Plan {
  mix: Mix;
  connections: number;
  /** Requests per second over all connections; undefined: each connection sends back to back. */
  rate: number | undefined;
  duplicateShare: number;
}

/**
 * The intake's best unpaced run of new events (acknowledgements/s and their p99), beside the bare
 * route's rate at the same connections in the same run.
 */
function webhookHeadline(rows: Row[]): HeadlineFigure | undefined {
  const perSecond = (row: Row) => row.load.ok / row.load.duration;
  const best = rows
    .filter((row) => row.target === 'api' && row.mix === 'unique')
    .sort((a, b) => perSecond(b) - perSecond(a))[0];
  const bare = rows.find(
    (row) => row.target === 'baseline' && row.mix === best?.mix && row.connections === best?.connections,
  );
  if (!best || !bare) return undefined;
  return {
    name: 'provider webhooks acknowledged (verified, deduplicated, workflow started)',
    value: perSecond(best),
    unit: 'acks/s',
    baseline: { name: 'bare route (raw body, signature check, 200; no storage)', value: perSecond(bare) },
    p99Ms: best.load.p99,
    row: `${best.mix} × ${best.connections}`,
  };
}

async function main(): Promise<void> {
  if (connectionLevels.length === 0) throw new Error('BENCH_CONNECTIONS names no connection count');
  process.env.TEMPORAL_LOG_LEVEL ??= 'ERROR';
  const tag = randomBytes(4).toString('hex');
  const databaseName = `bench_webhooks_${Date.now()}`;
  const taskQueue = `bench-webhooks-${tag}`;
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      for (const { name, stop } of stops.reverse()) {
        await stop().catch((error: unknown) => log(`could not stop ${name}: ${String(error)}`));
      }
    })();
    return cleaning;
  };
  const stopListening = cleanupOnSignal(cleanup, log);

  try {
    log('starting the load generator, Temporal, PostgreSQL and the workflow bundle');
    const loadgen = startLoadgen();
    stops.push({ name: 'load generator', stop: () => loadgen.stop() });
    const [temporalStart, postgresStart, bundleStart] = await Promise.allSettled([
      ensureTemporal(process.env.TEMPORAL_ADDRESS, { port: 0, uiPort: 0, log }),
      process.env.DATABASE_URL
        ? Promise.resolve(undefined)
        : freePort().then((port) => startEmbeddedPostgres(path.join(dataDir, 'bench-webhooks-postgres'), port, log)),
      bundleWorkflows(),
    ]);
    if (temporalStart.status === 'fulfilled') {
      const started: TemporalServer = temporalStart.value;
      stops.push({ name: 'Temporal', stop: () => started.stop() });
    }
    if (postgresStart.status === 'fulfilled' && postgresStart.value) {
      const started: PostgresServer = postgresStart.value;
      stops.push({ name: 'PostgreSQL', stop: () => started.stop() });
    }
    if (temporalStart.status === 'rejected') throw temporalStart.reason;
    if (postgresStart.status === 'rejected') throw postgresStart.reason;
    if (bundleStart.status === 'rejected') throw bundleStart.reason;
    const temporalServer = temporalStart.value;
    const server = postgresStart.value;
    const bundle = bundleStart.value;

    const adminUrl = server?.adminUrl ?? withDatabase(process.env.DATABASE_URL as string, 'postgres');
    const url = server?.urlFor(databaseName) ?? withDatabase(process.env.DATABASE_URL as string, databaseName);
    await createDatabase(adminUrl, databaseName);
    stops.push({ name: `database ${databaseName}`, stop: () => dropDatabase(adminUrl, databaseName) });
    log(`database ${databaseName}: applying migrations`);
    await applyMigrations(url);
    const admin = new pg.Pool({ connectionString: url, max: 2 });
    stops.push({ name: 'admin pool', stop: () => admin.end() });

    const config: Config = {
      ...loadConfig(),
      keyring: benchKeyring(),
      taskQueue,
      rateLimitPerSecond: 1_000_000,
      unmatchedRetryMs: unmatchedMs,
      unmatchedGiveUpMs: unmatchedMs,
    };
    const secret = config.webhookSecretsStripe[0];
    if (!secret) throw new Error('no Stripe webhook secret configured');
    const prisma: PrismaClient = createPrisma(url, config.databasePoolSize);
    stops.push({ name: 'Prisma', stop: () => prisma.$disconnect() });
    const providers = createProviderGateway(config);
    stops.push({ name: 'provider gateway', stop: async () => providers.shutdown() });

    const temporal = await connectClient(temporalServer.address, config.temporalNamespace, requireKeyring(config));
    stops.push({ name: 'Temporal client', stop: () => temporal.connection.close() });
    const { worker, connection } = await createWorker({
      address: temporalServer.address,
      namespace: config.temporalNamespace,
      taskQueue,
      prisma,
      providers,
      temporal,
      workflowBundle: { code: bundle.code },
      keyring: requireKeyring(config),
    });
    const workerRun = worker.run();
    stops.push({
      name: 'worker',
      stop: async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun;
        await connection.close();
      },
    });

    const api = await buildApp(
      { prisma, temporal, config },
      { logger: false, bodyLimitBytes: config.bodyLimitBytes, requestTimeoutMs: config.requestTimeoutMs },
    );
    await api.listen({ host: '127.0.0.1', port: 0 });
    let apiClosing: Promise<void> | undefined;
    const closeApi = (): Promise<void> => (apiClosing ??= api.close());
    stops.push({ name: 'API', stop: closeApi });
    const apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    const baseline = await startBaseline(config);
    stops.push({ name: 'baseline server', stop: () => baseline.server.close() });

    const ready = await loadgen.request({ type: 'init', secret, tag, eventType, events: eventsPerTarget });
    if (ready.type !== 'ready')
      throw new Error(`load generator: ${ready.type === 'error' ? ready.message : ready.type}`);
    log(`pre-generated and signed ${count(2 * eventsPerTarget)} events in ${Math.round(ready.generateMs)} ms`);

    const meter = new CpuMeter(
      process.env.TEMPORAL_ADDRESS ? undefined : await findTemporalPid(),
      server ? await findPostmaster(admin) : undefined,
    );
    const watch = new WorkflowWatch(admin, temporal, taskQueue);
    const settings = await admin.query<{ name: string; setting: string }>(
      `SELECT name, setting || coalesce(unit, '') AS setting FROM pg_settings
        WHERE name IN ('server_version', 'fsync', 'synchronous_commit') ORDER BY name`,
    );
    const setting = (name: string): string => settings.rows.find((row) => row.name === name)?.setting ?? '?';

    let runId = 0;
    const urls: Record<Target, string> = { api: apiUrl, baseline: baseline.url };
    const measure = async (target: Target, plan: Plan, runSeconds: number): Promise<Measured> => {
      const before = await meter.sample();
      const load = await runLoad(loadgen, {
        type: 'run',
        runId: runId++,
        target,
        url: urls[target],
        connections: plan.connections,
        seconds: runSeconds,
        rate: plan.rate,
        duplicateShare: plan.duplicateShare,
      });
      const after = await meter.sample();
      return { load, cpu: CpuMeter.share(before, after, load.cpuMs), startedMs: before.atMs, before };
    };

    const acknowledged = new Set<string>();
    const unanswered = new Set<string>();
    const absorb = (load: LoadResult): void => {
      for (const id of load.uniqueAckedIds) {
        acknowledged.add(id);
        unanswered.delete(id);
      }
      for (const id of load.uniqueUnansweredIds) if (!acknowledged.has(id)) unanswered.add(id);
    };

    log(`warm-up: ${warmupSeconds} s at 10 connections against each server`);
    const warmPlan: Plan = { mix: 'unique', connections: 10, rate: undefined, duplicateShare: 0 };
    const warmBaseline = await measure('baseline', warmPlan, warmupSeconds);
    const warmApi = await measure('api', warmPlan, warmupSeconds);
    absorb(warmApi.load);
    const warmDrain = await watch.drain(acknowledged.size);
    log(
      `warm-up: baseline ${count(warmBaseline.load.ok)} and API ${count(warmApi.load.ok)} acknowledgements; ` +
        `API workflows finished ${(warmDrain.ms / 1000).toFixed(1)} s later`,
    );

    const plans: Plan[] = [
      ...(pacedRate > 0
        ? [{ mix: 'paced' as const, connections: pacedConnections, rate: pacedRate, duplicateShare: 0 }]
        : []),
      ...connectionLevels.map((connections) => ({
        mix: 'unique' as const,
        connections,
        rate: undefined,
        duplicateShare: 0,
      })),
      ...connectionLevels.map((connections) => ({
        mix: 'dup50' as const,
        connections,
        rate: undefined,
        duplicateShare,
      })),
    ];

    const cpus = os.cpus();
    console.log('Webhook intake benchmark');
    console.log(
      `machine: ${os.availableParallelism()} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ` +
        `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}`,
    );
    console.log(
      `stack: Temporal ${process.env.TEMPORAL_ADDRESS ? `at ${process.env.TEMPORAL_ADDRESS}` : 'dev server (in memory)'}, ` +
        `postgres ${setting('server_version')} (${server ? 'embedded' : 'DATABASE_URL'}, fsync=${setting('fsync')}, ` +
        `synchronous_commit=${setting('synchronous_commit')}), node ${process.version}, fastify ` +
        `${await packageVersion('fastify')}, @temporalio/client ${await packageVersion('@temporalio/client')}, ` +
        `autocannon ${await packageVersion('autocannon')}`,
    );
    console.log(
      `runs: ${seconds} s each after ${warmupSeconds} s warm-up; events: ${eventType}` +
        `${eventType.startsWith('charge.') ? ` (unknown charge, parked ${unmatchedMs} ms)` : ''}`,
    );
    console.log(
      'mixes: ' +
        (pacedRate > 0
          ? `paced = new events at a fixed ${pacedRate} req/s over ${pacedConnections} connections ` +
            "(autocannon sends each second's quota at its start); "
          : '') +
        `unique = new events, back to back; dup50 = ${Math.round(duplicateShare * 100)}% re-deliveries of ` +
        'acknowledged events',
    );
    console.log(
      'api      = POST /v1/webhooks/stripe on buildApp(): verify signature, record in the inbox (dedupe), answer; the workflow starts after',
    );
    console.log('baseline = bare Fastify route: verify the same signature on the raw body, answer 200');
    console.log('');

    const rows: Row[] = [];
    process.stdout.write(`${header(resultColumns)}\n`);
    for (const plan of plans) {
      const label = `${plan.mix} × ${plan.connections}`;
      log(`${label}: baseline`);
      const base = await measure('baseline', plan, seconds);
      log(`${label}: API`);
      const before = await watch.progress();
      const apiRun = await measure('api', plan, seconds);
      absorb(apiRun.load);
      log(`${label}: waiting for the workflows to finish`);
      const drained = await watch.drain(acknowledged.size);
      if (!drained.ok) log(`${label}: workflows not finished after ${drainTimeoutMs / 1000} s`);
      const afterDrain = await meter.sample();
      const windowMs = afterDrain.atMs - apiRun.startedMs;
      const serverMs = CpuMeter.serverMs(apiRun.before, afterDrain);
      const newEvents = drained.progress.done - before.done;
      rows.push({ ...base, mix: plan.mix, connections: plan.connections, target: 'baseline' });
      rows.push({
        ...apiRun,
        mix: plan.mix,
        connections: plan.connections,
        target: 'api',
        drainMs: drained.ms,
        drained: drained.ok,
        workflowsDone: (newEvents * 1000) / windowMs,
        cpuMsPerEvent: serverMs / Math.max(1, newEvents),
      });
      const baseRate = base.load.ok / base.load.duration;
      for (const [target, load] of [
        ['baseline', base.load],
        ['api', apiRun.load],
      ] as const) {
        const perSecond = load.ok / load.duration;
        process.stdout.write(
          `${formatRow(resultColumns, [
            plan.mix,
            String(plan.connections),
            target,
            rate(perSecond),
            ms(load.p50),
            ms(load.p975),
            ms(load.p99),
            ms(load.max),
            count(load.non2xx),
            count(load.errors),
            target === 'api' && plan.rate === undefined ? `${((perSecond / baseRate) * 100).toFixed(2)}%` : '',
          ])}\n`,
        );
      }
    }

    console.log('');
    console.log(
      'Workflows (API runs): new events and re-deliveries acknowledged, re-deliveries answered duplicate: true; ' +
        'drain = wait after the run until every workflow finished; done/s = workflows finished ÷ (run + drain); ' +
        'server CPU = this process + Temporal + PostgreSQL over run + drain',
    );
    process.stdout.write(`${header(workflowColumns)}\n`);
    for (const row of rows.filter((candidate) => candidate.target === 'api')) {
      process.stdout.write(
        `${formatRow(workflowColumns, [
          row.mix,
          String(row.connections),
          count(row.load.uniqueAckedIds.length),
          count(row.load.duplicateAcked),
          count(row.load.duplicateAnsweredDuplicate),
          `${((row.drainMs ?? 0) / 1000).toFixed(1)}${row.drained ? '' : '!'}`,
          rate(row.workflowsDone ?? Number.NaN),
          ms(row.cpuMsPerEvent ?? Number.NaN),
        ])}\n`,
      );
    }

    console.log('');
    console.log(
      'CPU during each run, in cores (2 = both vCPUs busy): bench proc = this process (API, worker, baseline ' +
        'server), loadgen = autocannon child, other = machine busy minus the rest (other users of the machine, ' +
        'kernel); server µs/req = (bench proc + temporal + postgres) CPU ÷ 2xx answers',
    );
    process.stdout.write(`${header(cpuColumns)}\n`);
    for (const row of rows) {
      const serverCores =
        row.cpu.self +
        (Number.isFinite(row.cpu.temporal) ? row.cpu.temporal : 0) +
        (Number.isFinite(row.cpu.postgres) ? row.cpu.postgres : 0);
      const windowSeconds = row.load.duration;
      process.stdout.write(
        `${formatRow(cpuColumns, [
          row.mix,
          String(row.connections),
          row.target,
          cores(row.cpu.self),
          cores(row.cpu.loadgen),
          cores(row.cpu.temporal),
          cores(row.cpu.postgres),
          cores(row.cpu.machine),
          cores(row.cpu.other),
          rate((serverCores * windowSeconds * 1e6) / Math.max(1, row.load.ok)),
        ])}\n`,
      );
    }

    // ------------------------------------------------------------------ verification
    // No request can start a workflow once the API has closed; then let everything finish.
    await closeApi();
    const failures: string[] = [];
    const finalDrain = await watch.drain(acknowledged.size);
    const { rows: recordedRows } = await admin.query<{ external_id: string; outcome: string }>(
      `SELECT external_id, outcome FROM webhook_events WHERE provider = 'stripe'`,
    );
    const recorded = new Set(recordedRows.map((row) => row.external_id));
    const { rows: totals } = await admin.query<{ total: string; distinct_ids: string }>(
      `SELECT count(*) AS total, count(DISTINCT (provider, external_id)) AS distinct_ids FROM webhook_events`,
    );
    const totalRows = Number(totals[0]?.total ?? 0);
    const distinctRows = Number(totals[0]?.distinct_ids ?? 0);
    const missing = [...acknowledged].filter((id) => !recorded.has(id));
    const unexpected = [...recorded].filter((id) => !acknowledged.has(id) && !unanswered.has(id));
    const unansweredRecorded = [...unanswered].filter((id) => recorded.has(id)).length;
    const pending = recordedRows.filter((row) => row.outcome === 'pending').length;
    const apiLoads = [warmApi.load, ...rows.filter((row) => row.target === 'api').map((row) => row.load)];
    const sum = (pick: (load: LoadResult) => number): number => apiLoads.reduce((total, load) => total + pick(load), 0);
    const duplicatesAcked = sum((load) => load.duplicateAcked);
    const duplicatesAnswered = sum((load) => load.duplicateAnsweredDuplicate);
    const uniqueAnsweredDuplicate = sum((load) => load.uniqueAnsweredDuplicate);
    const apiAnswers = sum((load) => load.responses);
    const workflows = finalDrain.progress.workflows;
    let completed = Number.NaN;
    if (watch.visibilityFailure === undefined) {
      completed = await countWorkflows(temporal, `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Completed'`);
    }

    if (!finalDrain.ok)
      failures.push(`workflows still unfinished after ${drainTimeoutMs / 1000} s (${pending} pending)`);
    if (missing.length > 0) failures.push(`${missing.length} acknowledged events are not in webhook_events`);
    if (unexpected.length > 0) failures.push(`${unexpected.length} recorded events were never sent`);
    if (totalRows !== distinctRows) failures.push(`webhook_events: ${totalRows} rows but ${distinctRows} distinct ids`);
    if (duplicatesAnswered !== duplicatesAcked) {
      failures.push(`${duplicatesAcked - duplicatesAnswered} re-deliveries were not answered duplicate: true`);
    }
    if (uniqueAnsweredDuplicate > 0)
      failures.push(`${uniqueAnsweredDuplicate} new events were answered duplicate: true`);
    if (Number.isFinite(workflows) && workflows !== totalRows) {
      failures.push(`Temporal ran ${workflows} webhook workflows for ${totalRows} recorded events`);
    }
    if (Number.isFinite(completed) && completed !== totalRows) {
      failures.push(`${totalRows - completed} webhook workflows did not complete`);
    }

    console.log('');
    console.log(
      `Dedupe check over ${count(apiAnswers)} answered API requests (warm-up included): ` +
        `${count(acknowledged.size)} new event ids acknowledged` +
        (unanswered.size > 0
          ? ` + ${count(unanswered.size)} sent but cut off unanswered at the end of a run (${count(unansweredRecorded)} of those reached the server)`
          : '') +
        `; ${count(duplicatesAcked)} re-deliveries acknowledged, ${count(duplicatesAnswered)} answered duplicate: true`,
    );
    console.log(
      `  webhook_events: ${count(totalRows)} rows, ${count(distinctRows)} distinct event ids, ${count(pending)} pending` +
        ` (expected ${count(acknowledged.size)}–${count(acknowledged.size + unanswered.size)}); ` +
        `Temporal: ${count(workflows)} webhook workflows, ${count(completed)} completed → ` +
        `${failures.length === 0 ? 'OK' : 'FAIL'}`,
    );
    const onTheFly = Math.max(0, ...apiLoads.map((load) => load.generatedOnTheFly));
    if (onTheFly > 0) console.log(`note: ${onTheFly} API events were signed during runs (the pool ran out)`);
    for (const row of rows) {
      if (row.load.non2xx > 0) {
        console.log(
          `! ${row.mix} × ${row.connections} ${row.target}: non-2xx ${JSON.stringify(row.load.statuses)}, ` +
            `first body: ${row.load.firstNon2xxBody ?? ''}`,
        );
      }
    }
    for (const failure of failures) console.log(`! ${failure}`);
    if (failures.length > 0) process.exitCode = 1;
    const headline = webhookHeadline(rows);
    await writeBenchResult({
      bench: 'webhooks',
      checksPassed: failures.length === 0,
      figures: headline ? [headline] : [],
    });
  } finally {
    log('cleaning up');
    await cleanup();
    log('done');
    stopListening();
  }
}

if (process.env.BENCH_WEBHOOKS_ROLE === loadgenRole) await loadgenMain();
else await main();
