import { spawn, type ChildProcess } from 'node:child_process';
import { open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { clockTicksPerSecond, machineCpu, type ProcStat } from './bench-support.ts';

// Shared by the benches that run the stack as processes of their own: starting and stopping
// the API and the worker as children, and the CPU each process tree spent, read from /proc.

const projectRoot = path.resolve(import.meta.dirname, '..');
const readyTimeoutMs = 120_000;
const childStopTimeoutMs = 15_000;

export interface Child {
  name: string;
  pid: number;
  logFile: string;
  /** Why it ended, once it has. */
  exitReason(): string | undefined;
  stop(): Promise<void>;
}

const exitWithParent = pathToFileURL(path.join(projectRoot, 'scripts', 'bench-exit-with-parent.mjs')).href;

/**
 * `node --import tsx <script>`: what `tsx <script>` runs, without tsx's own relay process; with
 * an IPC channel whose end makes the child stop (scripts/bench-exit-with-parent.mjs). With
 * `profileDir`, the child writes a V8 CPU profile there when it stops (open it in Chrome DevTools).
 */
export async function startChild(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
  profileDir?: string,
): Promise<Child> {
  const output: FileHandle = await open(logFile, 'a');
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, name)}`] : [];
  const child: ChildProcess = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', '--import', exitWithParent, script],
    {
      cwd: projectRoot,
      env,
      stdio: ['ignore', output.fd, output.fd, 'ipc'],
    },
  );
  let reason: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      reason = `exit code ${code ?? 'none'}, signal ${signal ?? 'none'}`;
      resolve();
    });
  });
  child.once('error', (error) => {
    reason ??= error.message;
  });
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  return {
    name,
    pid: child.pid,
    logFile,
    exitReason: () => reason,
    async stop() {
      if (reason === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), childStopTimeoutMs);
        await exited;
        clearTimeout(timer);
      }
      await output.close().catch(() => {});
    },
  };
}

export async function logTail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Polls `ready` until it answers true; fails at once when a child has ended. */
export async function waitUntil(what: string, ready: () => Promise<boolean>, children: Child[]): Promise<void> {
  const deadline = performance.now() + readyTimeoutMs;
  for (;;) {
    for (const child of children) {
      const reason = child.exitReason();
      if (reason) throw new Error(`${child.name} ended (${reason}):\n${await logTail(child.logFile)}`);
    }
    if (await ready().catch(() => false)) return;
    if (performance.now() > deadline) throw new Error(`${what} not ready within ${readyTimeoutMs / 1000} s`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc
// ---------------------------------------------------------------------------------------------

interface ProcTimes extends ProcStat {
  /** CPU ms of its children that have exited and been waited for (cutime + cstime). */
  reapedMs: number;
}

/**
 * Like readProcStat (bench-support), plus the CPU of exited children: PostgreSQL backends come
 * and go with the connection pools (idle connections close after 10 s), and their CPU must not
 * leave with them.
 */
async function readProcTimes(pid: number): Promise<ProcTimes | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    const openAt = text.indexOf('(');
    const close = text.lastIndexOf(')');
    // After the command name: state ppid … utime (11) stime (12) cutime (13) cstime (14), in ticks.
    const fields = text.slice(close + 2).split(' ');
    const ms = (a: number, b: number): number => ((Number(fields[a]) + Number(fields[b])) * 1000) / clockTicksPerSecond;
    return { ppid: Number(fields[1]), comm: text.slice(openAt + 1, close), cpuMs: ms(11, 12), reapedMs: ms(13, 14) };
  } catch {
    return undefined;
  }
}

async function allProcTimes(): Promise<Map<number, ProcTimes>> {
  const stats = new Map<number, ProcTimes>();
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return stats;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readProcTimes(Number(entry));
    if (stat) stats.set(Number(entry), stat);
  }
  return stats;
}

/** CPU ms of a process, its live descendants and the children they have reaped. */
function treeCpuMs(stats: Map<number, ProcTimes>, root: number | undefined): number {
  if (root === undefined || !stats.has(root)) return Number.NaN;
  const children = new Map<number, number[]>();
  for (const [pid, stat] of stats) {
    const list = children.get(stat.ppid);
    if (list) list.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  let total = 0;
  const pending = [root];
  const seen = new Set<number>();
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const stat = stats.get(pid);
    total += (stat?.cpuMs ?? 0) + (stat?.reapedMs ?? 0);
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}

export interface CpuSample<G extends string> {
  atMs: number;
  atEpochMs: number;
  ms: Record<G, number>;
  machineBusy: number;
  machineTotal: number;
}

export interface CpuSpan<G extends string> {
  wallMs: number;
  /** CPU ms per group over the span. */
  ms: Record<G, number>;
  /** Cores in use over the span (2 = both vCPUs of this machine busy). */
  machineCores: number;
  otherCores: number;
}

/**
 * CPU by group: each group but 'bench' is a process tree under its root pid; 'bench' is this
 * process. A group without a root reads NaN.
 */
export class CpuMeter<G extends string> {
  constructor(
    private readonly groups: readonly G[],
    private readonly roots: Partial<Record<G, number>>,
  ) {}

  async sample(): Promise<CpuSample<G>> {
    const own = process.cpuUsage();
    const stats = await allProcTimes();
    const machine = machineCpu();
    const ms = {} as Record<G, number>;
    for (const group of this.groups) {
      ms[group] = group === 'bench' ? (own.user + own.system) / 1000 : treeCpuMs(stats, this.roots[group]);
    }
    return {
      atMs: performance.now(),
      atEpochMs: Date.now(),
      ms,
      machineBusy: machine.busy,
      machineTotal: machine.total,
    };
  }

  span(before: CpuSample<G>, after: CpuSample<G>): CpuSpan<G> {
    const wallMs = Math.max(1, after.atMs - before.atMs);
    const ms = {} as Record<G, number>;
    let known = 0;
    for (const group of this.groups) {
      // A process that exits between samples takes its CPU time with it: never below zero.
      ms[group] = Number.isFinite(after.ms[group]) ? Math.max(0, after.ms[group] - before.ms[group]) : Number.NaN;
      if (Number.isFinite(ms[group])) known += ms[group];
    }
    const machineTotal = Math.max(1, after.machineTotal - before.machineTotal);
    const machineCores = ((after.machineBusy - before.machineBusy) / machineTotal) * os.availableParallelism();
    return { wallMs, ms, machineCores, otherCores: Math.max(0, machineCores - known / wallMs) };
  }
}

/** The Temporal dev server this process started (ensureTemporal), by its command line. */
export async function findDevServerPid(): Promise<number | undefined> {
  for (const [pid, stat] of await allProcTimes()) {
    if (stat.ppid !== process.pid) continue;
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.includes('start-dev')) return pid;
  }
  return undefined;
}
