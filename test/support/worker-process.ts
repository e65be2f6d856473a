import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request as send } from 'undici';
import { fileURLToPath } from 'node:url';
import { loadConfig, requireKeyring } from '../../src/config.ts';
import { createPrisma } from '../../src/db/prisma.ts';
import { isMain } from '../../src/main.ts';
import { createProviderGateway } from '../../src/providers/index.ts';
import { createWorker } from '../../src/worker.ts';
import { connectClient } from '../../src/temporal/client.ts';
import { startMetricsServer } from '../../src/observability/metrics-server.ts';

// A payment worker in a child process, so a test can SIGKILL it like a crashed machine: no
// graceful shutdown, sockets cut, activities left in flight. Run directly (the child side), it
// starts a worker from the usual environment variables plus WORKFLOW_BUNDLE_PATH and prints
// `ready` once it polls its task queue. Imported (the test side), it spawns and kills one.

const readyLine = 'ready';
const scriptPath = fileURLToPath(import.meta.url);

export interface WorkerProcessEnv {
  temporalAddress: string;
  databaseUrl: string;
  taskQueue: string;
  providerSimUrl: string;
  workflowBundlePath: string;
  /** Deadline of each provider request, in ms. */
  providerTimeoutMs: number;
  /** ENCRYPTION_KEYS: the run's, so the child reads what the suite's workers wrote. */
  encryptionKeys: string;
  /**
   * Further settings as environment variables (src/config.ts), e.g. BREAKER_RESET_TIMEOUT_MS;
   * WORKER_METRICS_PORT, when given, makes the child serve GET /metrics there.
   */
  settings?: Record<string, string>;
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** SIGKILLs the process and waits until it has exited; nothing runs in it afterwards. */
  kill(): Promise<void>;
  /** Whether the process has exited (killed or crashed). */
  exited(): boolean;
}

/** Spawns a worker process and resolves once it polls `taskQueue`; rejects if it dies first. */
export async function spawnWorkerProcess(env: WorkerProcessEnv, timeoutMs = 30_000): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', scriptPath], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.temporalAddress,
      DATABASE_URL: env.databaseUrl,
      TEMPORAL_TASK_QUEUE: env.taskQueue,
      PROVIDER_SIM_URL: env.providerSimUrl,
      PROVIDER_TIMEOUT_MS: String(env.providerTimeoutMs),
      WORKFLOW_BUNDLE_PATH: env.workflowBundlePath,
      ENCRYPTION_KEYS: env.encryptionKeys,
      TEMPORAL_LOG_LEVEL: process.env.TEMPORAL_LOG_LEVEL ?? 'ERROR',
      DATABASE_POOL_SIZE: '5',
      ...env.settings,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exitCode: number | null | undefined;
  let signal: NodeJS.Signals | null = null;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, exitSignal) => {
      exitCode = code;
      signal = exitSignal;
      resolve();
    }),
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4_000);
  });

  await new Promise<void>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker process not ready after ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (stdout.split('\n').includes(readyLine)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker process exited (${exitCode ?? signal}) before it was ready: ${stderr}`));
    });
  });

  return {
    child,
    exited: () => exitCode !== undefined,
    async kill() {
      if (exitCode === undefined) child.kill('SIGKILL');
      await exit;
    },
  };
}

/**
 * An HTTP proxy in front of the provider simulator that can lose answers: a matching request
 * still reaches the provider and takes effect there, but its answer never comes back, as when
 * a process dies (or a network drops) between the provider acting and the caller hearing of it.
 * Everything else passes through unchanged, a caller giving up included.
 */
export interface ProviderProxy {
  readonly url: string;
  /** The next `count` requests that match lose their answers. */
  loseAnswers(match: (method: string, path: string) => boolean, count?: number): void;
  /** Answers lost so far (the provider has answered them, nobody was told). */
  lostAnswers(): number;
  close(): Promise<void>;
}

const hopByHop = new Set(['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

/** `target` is read per request, so the proxy can start before the simulator it fronts. */
export async function startProviderProxy(target: () => string): Promise<ProviderProxy> {
  let rule: { match: (method: string, path: string) => boolean; left: number } | undefined;
  let lost = 0;
  // Its own sockets, so closing the proxy leaves no connection open at the simulator.
  const agent = new Agent();

  const forward = async (request: IncomingMessage, response: ServerResponse, body: Buffer) => {
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    const lose = rule !== undefined && rule.left > 0 && rule.match(method, path);
    if (lose && rule) rule.left -= 1;
    const upstreamGone = new AbortController();
    // A caller that gives up cuts the provider request too, unless the answer is to be lost.
    if (!lose) response.once('close', () => upstreamGone.abort());
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && !hopByHop.has(name)) headers[name] = value;
    }
    try {
      const upstream = await send(`${target()}${path}`, {
        dispatcher: agent,
        method: method as 'GET' | 'POST' | 'DELETE',
        headers,
        body: body.length > 0 ? body : undefined,
        signal: upstreamGone.signal,
      });
      const answer = Buffer.from(await upstream.body.arrayBuffer());
      if (lose) {
        lost += 1;
        return;
      }
      const answerHeaders: Record<string, string> = {};
      for (const [name, value] of Object.entries(upstream.headers)) {
        if (typeof value === 'string' && !hopByHop.has(name)) answerHeaders[name] = value;
      }
      response.writeHead(upstream.statusCode, answerHeaders).end(answer);
    } catch {
      if (!response.headersSent && !response.destroyed) response.writeHead(502).end();
    }
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => void forward(request, response, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    loseAnswers(match, count = 1) {
      rule = { match, left: count };
    },
    lostAnswers: () => lost,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.destroy();
    },
  };
}

/** The child side: a worker like src/worker.ts, but on a prebuilt bundle so it starts in about a second. */
async function runWorker(): Promise<void> {
  const config = loadConfig();
  const bundlePath = process.env.WORKFLOW_BUNDLE_PATH;
  if (!config.databaseUrl || !config.temporalAddress || !bundlePath) {
    throw new Error('worker-process needs DATABASE_URL, TEMPORAL_ADDRESS and WORKFLOW_BUNDLE_PATH');
  }
  const prisma = createPrisma(config.databaseUrl, config.databasePoolSize);
  const providers = createProviderGateway(config);
  const keyring = requireKeyring(config);
  const temporal = await connectClient(config.temporalAddress, config.temporalNamespace, keyring);
  const { worker } = await createWorker({
    keyring,
    address: config.temporalAddress,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    prisma,
    providers,
    temporal,
    workflowBundle: { codePath: bundlePath },
  });
  const running = worker.run();
  // Only when asked: children of other suites must not compete for the default port.
  if (process.env.WORKER_METRICS_PORT) await startMetricsServer('127.0.0.1', config.workerMetricsPort);
  process.stdout.write(`${readyLine}\n`);
  // The test ends this process with SIGKILL; a normal exit only happens if the worker fails.
  await running;
}

if (isMain(import.meta.url)) await runWorker();
