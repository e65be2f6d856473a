import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { Keyring } from '../src/crypto/keyring.ts';

// Shared by the benchmark scripts: settings from the environment, percentiles, and the CPU
// accounting read from /proc that lets a bench say where the time went.

const projectRoot = path.resolve(import.meta.dirname, '..');

/**
 * ENCRYPTION_KEYS, or a key of the bench's own set in the environment (its child processes
 * read it there), since payloads are always encrypted.
 */
export function benchKeyring(): Keyring {
  process.env.ENCRYPTION_KEYS ||= Keyring.generateEntry('bench');
  return Keyring.parse(process.env.ENCRYPTION_KEYS);
}

export function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

/** The q-quantile (0..1) of ascending samples, nearest rank. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** CPU time of the whole machine so far, in ms summed over cores. */
export function machineCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const used = times.user + times.nice + times.sys + times.irq;
    busy += used;
    total += used + times.idle;
  }
  return { busy, total };
}

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every mainstream Linux build. */
export const clockTicksPerSecond = 100;

export interface ProcStat {
  ppid: number;
  comm: string;
  cpuMs: number;
}

export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    const open = text.indexOf('(');
    const close = text.lastIndexOf(')');
    // After the command name (in parentheses, may contain spaces): state ppid … utime (index
    // 11) stime (index 12), in clock ticks.
    const fields = text.slice(close + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { ppid: Number(fields[1]), comm: text.slice(open + 1, close), cpuMs: (ticks * 1000) / clockTicksPerSecond };
  } catch {
    return undefined;
  }
}

/** The PostgreSQL server's process id, when it runs on this machine and /proc can see it. */
export async function findPostmaster(admin: pg.Pool): Promise<number | undefined> {
  try {
    const { rows } = await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const backend = rows[0]?.pid;
    return backend === undefined ? undefined : (await readProcStat(backend))?.ppid;
  } catch {
    return undefined;
  }
}

export async function packageVersion(name: string): Promise<string> {
  try {
    const file = path.join(projectRoot, 'node_modules', ...name.split('/'), 'package.json');
    return (JSON.parse(await readFile(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Ctrl-C or SIGTERM mid-run still drops the bench database and stops what the bench started. */
export function cleanupOnSignal(cleanup: () => Promise<void>, log: (line: string) => void): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
}
