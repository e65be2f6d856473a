// Worker start benchmark: `npm run bench:worker-start`.
//
// How long a restarted worker takes from `tsx src/worker.ts` being spawned (as `npm run worker`
// does, with DATABASE_URL, TEMPORAL_ADDRESS and a task queue of its own) until it serves work:
//   running     the SDK logs the worker state RUNNING: its pollers have started;
//   first task  Temporal hands the worker its first workflow task. A probe workflow of a type
//               the worker does not know is started on the run's task queue before the spawn;
//               its WorkflowTaskStarted event (server clock) marks the first poll that got work.
// Both are wall-clock ms since the spawn. Beside them, the CPU time tsx and the worker used until
// RUNNING, which a busy shared machine stretches far less than wall time.
// Each run then stops the worker with SIGTERM, as a deploy does. One unmeasured warm-up run
// comes first: it warms the file cache and leaves behind whatever the worker caches on disk
// (a prebuilt bundle it had to build), so the measured runs are restarts. Its numbers are
// printed too: with a missing or stale bundle they show the cost of building it.
//
// Temporal: TEMPORAL_ADDRESS when set (its clock must agree with this machine's), otherwise a
// dev server in memory. PostgreSQL: DATABASE_URL's server when set, otherwise an embedded one in
// .data/bench-worker-start-postgres. A fresh database is created, migrated and dropped at the end.
//
// Knobs (environment): BENCH_RUNS (default 5), BENCH_TIMEOUT_SECONDS (default 60).

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { google } from '@temporalio/proto';
import { createDatabase, dataDir, dropDatabase, withDatabase } from '../src/db/database.ts';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.ts';
import { applyMigrations } from '../src/db/migrate.ts';
import { connectClient } from '../src/temporal/client.ts';
import { ensureTemporal, freePort } from '../src/temporal/dev-server.ts';
import {
  cleanupOnSignal,
  machineCpu,
  numberFromEnv,
  packageVersion,
  readProcStat,
  type ProcStat,
  benchKeyring,
} from './bench-support.ts';

const runs = Math.floor(numberFromEnv('BENCH_RUNS', 5));
const timeoutMs = numberFromEnv('BENCH_TIMEOUT_SECONDS', 60) * 1000;
const stopTimeoutMs = 15_000;
const historyPollIntervalMs = 100;
const probeWorkflowType = 'benchWorkerStartProbe';
// The SDK prints the state in an object that may span lines.
const runningLine = /Worker state changed[^}]*RUNNING/;

const projectRoot = path.resolve(import.meta.dirname, '..');
const tsxBin = path.join(projectRoot, 'node_modules', '.bin', 'tsx');
const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';

const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

interface Stack {
  temporalAddress: string;
  databaseUrl: string;
  temporal: Client;
}

interface Sample {
  runningMs: number;
  firstTaskMs: number;
  /** CPU time of tsx and the worker until RUNNING: what a restart costs, busy machine or not. */
  workerCpuMs: number;
  /** Whole-machine CPU use during the run, in cores: other users of a shared box show here. */
  machineCores: number;
}

function spawnWorker(stack: Stack, taskQueue: string): ChildProcess {
  return spawn(tsxBin, ['src/worker.ts'], {
    cwd: projectRoot,
    // Its own process group, so a worker that will not stop can be killed with tsx's child.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: stack.databaseUrl,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      // The SDK logs worker state changes at INFO.
      TEMPORAL_LOG_LEVEL: 'INFO',
      DATABASE_POOL_SIZE: '2',
    },
  });
}

/** Resolves when the worker logs RUNNING; rejects if it exits or the timeout passes first. */
function untilRunning(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`worker not RUNNING within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8_000);
      if (runningLine.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code ?? signal}) before RUNNING:\n${output}`));
    });
  });
}

function timestampMs(time: google.protobuf.ITimestamp | null | undefined): number {
  return Number(time?.seconds?.toString() ?? Number.NaN) * 1000 + (time?.nanos ?? 0) / 1e6;
}

/** CPU time of a process and all its descendants, from /proc. */
async function treeCpuMs(rootPid: number): Promise<number> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const stats = new Map<number, ProcStat>();
  await Promise.all(
    pids.map(async (pid) => {
      const stat = await readProcStat(pid);
      if (stat) stats.set(pid, stat);
    }),
  );
  const inTree = (pid: number): boolean => {
    for (let current = pid; current > 1; current = stats.get(current)?.ppid ?? 0) {
      if (current === rootPid) return true;
    }
    return false;
  };
  return [...stats].reduce((sum, [pid, stat]) => (inTree(pid) ? sum + stat.cpuMs : sum), 0);
}

/** Server time of the probe's first WorkflowTaskStarted, waiting for it to happen. */
async function firstTaskStartedAt(temporal: Client, workflowId: string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
    const event = history.events?.find((candidate) => candidate.workflowTaskStartedEventAttributes);
    if (event) return timestampMs(event.eventTime);
    await new Promise((resolve) => setTimeout(resolve, historyPollIntervalMs));
  }
  throw new Error(`no workflow task started for ${workflowId} within ${timeoutMs} ms`);
}

/** SIGTERM to tsx, which passes it on to the worker; the whole group is killed if it lingers. */
async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, stopTimeoutMs);
  await exited;
  clearTimeout(timer);
}

async function measureOnce(stack: Stack, run: string): Promise<Sample> {
  const taskQueue = `bench-worker-start-${process.pid}-${run}`;
  const workflowId = `${taskQueue}-probe`;
  await stack.temporal.workflow.start(probeWorkflowType, { taskQueue, workflowId, args: [] });
  const cpuBefore = machineCpu();
  const spawnedAt = Date.now();
  const child = spawnWorker(stack, taskQueue);
  try {
    await untilRunning(child);
    const runningMs = Date.now() - spawnedAt;
    const workerCpuMs = await treeCpuMs(child.pid as number);
    const firstTaskMs = (await firstTaskStartedAt(stack.temporal, workflowId)) - spawnedAt;
    const cpuAfter = machineCpu();
    const machineCores = (cpuAfter.busy - cpuBefore.busy) / (Date.now() - spawnedAt);
    return { runningMs, firstTaskMs, workerCpuMs, machineCores };
  } finally {
    await stopWorker(child);
    await stack.temporal.workflow
      .getHandle(workflowId)
      .terminate('benchmark probe')
      .catch((error: unknown) => {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      });
  }
}

async function commitLabel(): Promise<string> {
  const git = (args: string[]) => promisify(execFile)('git', args, { cwd: projectRoot });
  try {
    const { stdout: commit } = await git(['rev-parse', '--short', 'HEAD']);
    const { stdout: status } = await git(['status', '--porcelain', '--untracked-files=no']);
    return `${commit.trim()}${status.trim() ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return 'unknown';
  }
}

const formatMs = (value: number): string => Math.round(value).toLocaleString('en-US');

const rule = '-'.repeat(66);

function row(label: string, cells: string[]): string {
  return [label.padEnd(10), ...cells.map((cell) => cell.padStart(14))].join('');
}

function sampleRow(label: string, sample: Sample): string {
  const { runningMs, firstTaskMs, workerCpuMs, machineCores } = sample;
  return row(label, [formatMs(runningMs), formatMs(firstTaskMs), formatMs(workerCpuMs), machineCores.toFixed(2)]);
}

function summaryRows(samples: Sample[]): string[] {
  const columns = [
    samples.map((sample) => sample.runningMs),
    samples.map((sample) => sample.firstTaskMs),
    samples.map((sample) => sample.workerCpuMs),
  ].map((values) => values.sort((a, b) => a - b));
  const at = (index: number): string[] => columns.map((values) => formatMs(values[index] ?? Number.NaN));
  return [
    row('min', at(0)),
    row('median', at(Math.floor((samples.length - 1) / 2))),
    row('max', at(samples.length - 1)),
  ];
}

async function printHeader(): Promise<void> {
  const cpus = os.cpus();
  const lines = [
    'Worker start benchmark',
    `machine: ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), linux ${os.release()}`,
    `code: commit ${await commitLabel()}, node ${process.version}, @temporalio/worker ${await packageVersion('@temporalio/worker')}`,
    'command: tsx src/worker.ts with DATABASE_URL, TEMPORAL_ADDRESS and a fresh task queue per run',
    'running, first task: wall ms since spawn; worker CPU: tsx + worker process CPU ms until RUNNING',
    '',
    row('run', ['running ms', 'first task ms', 'worker CPU ms', 'machine cores']),
    rule,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function benchmark(stack: Stack): Promise<void> {
  await printHeader();
  process.stdout.write(`${sampleRow('warm-up', await measureOnce(stack, 'warmup'))}\n`);
  const samples: Sample[] = [];
  for (let index = 1; index <= runs; index += 1) {
    const sample = await measureOnce(stack, String(index));
    samples.push(sample);
    process.stdout.write(`${sampleRow(String(index), sample)}\n`);
  }
  process.stdout.write(`${rule}\n${summaryRows(samples).join('\n')}\n`);
}

async function main(): Promise<void> {
  const stops: (() => Promise<void>)[] = [];
  let cleaning: Promise<void> | undefined;
  // Once, whether the run ends or a signal cuts it short.
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const stop of stops.reverse()) await stop().catch((error: unknown) => log(`cleanup: ${String(error)}`));
    })());
  const stopListening = cleanupOnSignal(cleanup, log);
  try {
    log('starting Temporal and PostgreSQL');
    const [temporalServer, postgres] = await Promise.all([
      ensureTemporal(process.env.TEMPORAL_ADDRESS, { port: 0, uiPort: 0, log }),
      process.env.DATABASE_URL
        ? Promise.resolve(undefined)
        : freePort().then((port) =>
            startEmbeddedPostgres(path.join(dataDir, 'bench-worker-start-postgres'), port, log),
          ),
    ]);
    stops.push(() => temporalServer.stop());
    if (postgres) stops.push(() => postgres.stop());
    const databaseName = `bench_worker_start_${Date.now()}`;
    const adminUrl = postgres?.adminUrl ?? withDatabase(process.env.DATABASE_URL as string, 'postgres');
    await createDatabase(adminUrl, databaseName);
    stops.push(() => dropDatabase(adminUrl, databaseName));
    const databaseUrl =
      postgres?.urlFor(databaseName) ?? withDatabase(process.env.DATABASE_URL as string, databaseName);
    await applyMigrations(databaseUrl);
    const temporal = await connectClient(temporalServer.address, namespace, benchKeyring());
    stops.push(() => temporal.connection.close());
    await benchmark({ temporalAddress: temporalServer.address, databaseUrl, temporal });
  } finally {
    await cleanup();
    stopListening();
  }
}

await main();
