import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { startStack, type Stack } from '../support/stack.ts';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';
import { buildApp } from '../../src/api/build.ts';
import { requireKeyring, type Config } from '../../src/config.ts';
import { dataDir } from '../../src/db/database.ts';
import { EncryptionCodec } from '../../src/temporal/encryption-codec.ts';
import { decryptedHistoryJson } from '../support/decrypted-history.ts';
import { freePort } from '../../src/temporal/dev-server.ts';
import { startWebhookSweeper } from '../../src/webhooks/inbox.ts';
import { temporal as temporalProto } from '@temporalio/proto';
import { createLogger } from '../../src/observability/logger.ts';
import { carefulClient, type CarefulClient } from './careful-client.ts';
import { planPayments, runLoad, type LoadLimits, type PaymentRun } from './load.ts';
import { observeBooks, observePayments } from './observe.ts';
import { seededRandom, type Random } from './seeded-random.ts';
import { startChaosServices, type ChaosServices } from './services.ts';
import { judgeScenario, verdictTable, type ScenarioVerdict } from './verdict.ts';

// One scenario's world: its own PostgreSQL and Temporal (services.ts), the suite stack on
// them (test/support/stack.ts: simulator, NATS, relay), an API listening on 127.0.0.1 whose
// payments run on a task queue that only a worker child process polls (so killing it stops
// all payment work), funded wallets, and the simulator's webhook storm: 30 % duplicates,
// out of order, into that API. Then the load, the scenario's chaos beside it, and the verdict.

export interface ChaosRunOptions {
  scenario: string;
  seed: number;
  /** The API's settings beyond the chaos defaults (payment settings reach workflows from here). */
  config?: Partial<Config>;
  /** The worker's environment beyond the defaults (src/config.ts names). */
  workerSettings?: Record<string, string>;
}

export interface ChaosRun {
  readonly seed: number;
  readonly random: Random;
  readonly services: ChaosServices;
  readonly stack: Stack;
  readonly app: FastifyInstance;
  readonly client: CarefulClient;
  /** Customer accounts, each funded for every wallet payment it could be asked for. */
  readonly wallets: string[];
  /** SIGKILLs the worker process and starts a new one; resolves once it polls. */
  killAndRestartWorker(): Promise<void>;
  /** The worker process's GET /metrics (provider calls, breaker states). */
  workerMetrics(): Promise<string>;
  /** Sends the scenario's payments, runs `chaos` beside them, waits for every payment to settle, judges. */
  loadUnderChaos(chaos: (clock: ChaosClock) => Promise<void>): Promise<ScenarioVerdict>;
  close(): Promise<void>;
}

/** Moments counted from the start of the load. */
export interface ChaosClock {
  /** Resolves `ms` after the load started (at once if that moment has passed). */
  at(ms: number): Promise<void>;
  elapsedMs(): number;
  log(line: string): void;
}

export const paymentCount = 200;
/** The payments start spread over this window, so every failure lands on payments in flight. */
export const loadWindowMs = 12_000;
/**
 * `count` seeded moments within the load window (and a little past it, while actions still
 * run), one in each equal slot, so they never bunch up: at least `gapMs` apart.
 */
export function chaosMoments(random: Random, count: number, gapMs = 2_000): number[] {
  const fromMs = 1_000;
  const slotMs = (loadWindowMs + 4_000) / count;
  return Array.from({ length: count }, (_, index) =>
    Math.floor(fromMs + index * slotMs + random() * Math.max(0, slotMs - gapMs)),
  );
}

/** After the load, how long every payment has to become final. */
const finalBudgetMs = 90_000;
const walletCount = 8;
const walletFundingMinor = 2_000_000;

const loadLimits: LoadLimits = { settleBudgetMs: 90_000, pollIntervalMs: 500, maxActionRounds: 6 };

/** Settings of every scenario's API: nothing but the chaos gets in the payments' way. */
const chaosConfig: Partial<Config> = {
  rateLimitPerSecond: 100_000,
  riskMaxPaymentsPerWindow: 1_000_000,
  // Manual payments wait for the client's capture, never for the expiry timer.
  authorizationExpiryMs: 3_600_000,
  // No settlement within the scenario: the ledger then holds captures and refunds only.
  settlementDelayMs: 3_600_000,
  // Unknown outcomes resolve within the scenario's budget (defaults: 5 s, 30 s, 5 min, …).
  outcomeLookupScheduleMs: [500, 1_000, 2_000, 4_000, 8_000, 15_000],
  // The production default. At 1 s, provider calls time out under this load on 2 cores, and a
  // worker killed right after recording such an unknown outcome leaves the read model behind
  // its workflow (reported with issue 14's chaos work; it needs a migration to fix).
  providerTimeoutMs: 5_000,
  webhookSweepAfterMs: 2_000,
  // A key claimed by a request that then lost its database cannot be released: it stays
  // `idempotency_request_in_progress` (409) until this lock expires (default 60 s, longer than
  // the client's retry budget). Still longer than any answer (PAYMENT_WAIT_MS plus its margin).
  idempotencyLockTimeoutMs: 20_000,
};

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const finalStatuses = ['succeeded', 'failed', 'canceled', 'requires_attention'];

async function startWorker(
  services: ChaosServices,
  stack: Stack,
  config: Config,
  metricsPort: number,
  settings: Record<string, string>,
): Promise<WorkerProcess> {
  return spawnWorkerProcess({
    temporalAddress: services.temporalAddress,
    databaseUrl: services.databaseUrl,
    taskQueue: config.taskQueue,
    providerSimUrl: stack.simUrl,
    workflowBundlePath: inject('workflowBundlePath'),
    encryptionKeys: inject('encryptionKeys'),
    providerTimeoutMs: config.providerTimeoutMs,
    settings: { WORKER_METRICS_PORT: String(metricsPort), DATABASE_POOL_SIZE: '10', ...settings },
  });
}

async function stormWebhooksInto(stack: Stack, apiUrl: string, config: Config): Promise<void> {
  for (const [provider, secret] of [
    ['stripe', config.webhookSecretsStripe[0]],
    ['paypal', config.webhookSecretsPaypal[0]],
  ] as const) {
    const response = await stack.sim.inject({
      method: 'POST',
      url: '/admin/webhooks',
      payload: { provider, url: `${apiUrl}/v1/webhooks/${provider}`, secret, duplicate_rate: 0.3, out_of_order: true },
    });
    if (response.statusCode !== 200) throw new Error(`webhook storm not set: ${response.body}`);
  }
}

async function fundWallets(client: CarefulClient, tag: string): Promise<string[]> {
  const wallets: string[] = [];
  for (let index = 0; index < walletCount; index++) {
    const opened = await client.post('/v1/accounts', { type: 'customer', currency: 'USD' }, `${tag}-wallet-${index}`);
    if (opened.status !== 201) throw new Error(`wallet not opened: ${opened.status} ${JSON.stringify(opened.body)}`);
    const deposit = await client.post(
      `/v1/accounts/${opened.body.id}/deposits`,
      { amount: walletFundingMinor, reference: 'chaos funding' },
      `${tag}-deposit-${index}`,
    );
    if (deposit.status !== 201) throw new Error(`wallet not funded: ${deposit.status} ${JSON.stringify(deposit.body)}`);
    wallets.push(opened.body.id);
  }
  return wallets;
}

/** Waits (bounded) until no payment is processing or has a refund pending; the ids still open. */
async function awaitFinal(stack: Stack, budgetMs: number): Promise<string[]> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const open = await stack.prisma.payment.findMany({
      where: {
        OR: [{ status: { notIn: finalStatuses } }, { refunds: { some: { status: 'pending' } } }],
      },
      select: { id: true },
    });
    if (open.length === 0 || Date.now() >= deadline) return open.map((payment) => payment.id);
    await pause(500);
  }
}

const maxExplained = 10;
const evidenceDir = path.join(dataDir, 'chaos-evidence');

/** The API's error lines, less the 503s that chaos is expected to cause (the client retries them). */
const findingsOnly = {
  write(line: string): void {
    if (!/"code":"(service_unavailable|provider_unavailable)"/.test(line)) process.stderr.write(line);
  },
};

const eventTypeName = (type: unknown): string =>
  String(temporalProto.api.enums.v1.EventType[Number(type)] ?? type).replace(/^EVENT_TYPE_/, '');

/** What CI's log needs to see why a payment is off: the client's notes, our timeline, the workflow's last events. */
async function explainPayment(stack: Stack, paymentId: string, runs: PaymentRun[]): Promise<string> {
  const run = runs.find((candidate) => candidate.fact.paymentIds.includes(paymentId));
  const events = await stack.prisma.paymentEvent.findMany({ where: { paymentId }, orderBy: { version: 'asc' } });
  const lines = [`  ${paymentId}: plan ${JSON.stringify(run?.plan ?? null)}`];
  lines.push(`    client: ${run?.notes.join('; ') || '-'}`);
  lines.push(`    timeline: ${events.map((event) => event.type).join(' ')}`);
  try {
    const handle = stack.temporal.workflow.getHandle(paymentId);
    const description = await handle.describe();
    const history = await handle.fetchHistory();
    const tail = (history.events ?? []).slice(-12).map((event) => eventTypeName(event.eventType));
    lines.push(`    workflow ${description.status.name}, last events: ${tail.join(' ')}`);
    // The whole history, decrypted, beside the run's data for whoever reproduces it locally.
    const file = path.join(evidenceDir, `${paymentId}.json`);
    await mkdir(evidenceDir, { recursive: true });
    const codec = new EncryptionCodec(requireKeyring(stack.config));
    await writeFile(file, JSON.stringify(decryptedHistoryJson(history, codec), null, 1));
    lines.push(`    history: ${file}`);
  } catch (error) {
    lines.push(`    workflow: ${String(error)}`);
  }
  return lines.join('\n');
}

export async function startChaosRun(options: ChaosRunOptions): Promise<ChaosRun> {
  const { scenario, seed } = options;
  const random = seededRandom(seed);
  const log = (line: string) => console.log(`[chaos ${scenario}] ${line}`);
  log(`CHAOS_SEED=${seed}`);
  const services = await startChaosServices(scenario);
  const stack = await startStack(
    `chaos-${scenario}`,
    chaosConfig,
    {},
    {},
    {
      temporalAddress: services.temporalAddress,
      databaseUrl: services.databaseUrl,
      natsUrl: inject('natsUrl'),
      workflowBundlePath: inject('workflowBundlePath'),
      encryptionKeys: inject('encryptionKeys'),
    },
  );
  const config: Config = {
    ...stack.config,
    ...options.config,
    taskQueue: `chaos-${scenario}-${randomUUID()}`,
  };
  const app = await buildApp(
    { prisma: stack.prisma, temporal: stack.temporal, config },
    {
      // Errors only: a 500 under chaos is a finding, and its cause is in this line.
      logger: createLogger('api', { level: 'error', format: 'json', destination: findingsOnly }),
      bodyLimitBytes: config.bodyLimitBytes,
      requestTimeoutMs: config.requestTimeoutMs,
    },
  );
  const apiUrl = `http://127.0.0.1:${await freePort()}`;
  await app.listen({ host: '127.0.0.1', port: Number(new URL(apiUrl).port) });
  await stormWebhooksInto(stack, apiUrl, config);
  // As the worker's main does: events whose workflow start a failure cut short are started later.
  const sweeper = startWebhookSweeper({ prisma: stack.prisma, temporal: stack.temporal, config });
  const metricsPort = await freePort();
  const workerSettings = options.workerSettings ?? {};
  let worker = await startWorker(services, stack, config, metricsPort, workerSettings);
  const merchant = await stack.merchant();
  const client = carefulClient({
    baseUrl: apiUrl,
    apiKey: merchant.apiKey,
    random,
    maxAttempts: 40,
    requestBudgetMs: 90_000,
    attemptTimeoutMs: config.paymentWaitMs + 10_000,
  });
  const wallets = await fundWallets(client, `chaos-${seed}`);

  const loadUnderChaos = async (chaos: (clock: ChaosClock) => Promise<void>) => {
    const plans = planPayments(random, paymentCount, wallets, loadWindowMs);
    const startedAt = Date.now();
    const clock: ChaosClock = {
      at: (ms) => pause(Math.max(0, startedAt + ms - Date.now())),
      elapsedMs: () => Date.now() - startedAt,
      log: (line) => log(`+${((Date.now() - startedAt) / 1000).toFixed(1)} s ${line}`),
    };
    const [runs] = await Promise.all([runLoad(client, plans, loadLimits), chaos(clock)]);
    clock.log(`load done: ${client.retries()} retried requests`);
    for (const run of runs.filter((candidate) => candidate.notes.length > 0).slice(0, 20)) {
      log(`  ${run.plan.key}: ${run.notes.join('; ')}`);
    }
    const open = await awaitFinal(stack, finalBudgetMs);
    clock.log(`settled (${open.length} still open)`);
    return judge(runs);
  };

  const judge = async (runs: PaymentRun[]) => {
    const verdict = judgeScenario(
      scenario,
      await observePayments(stack.prisma, stack.sim, runs),
      await observeBooks(stack.prisma),
    );
    console.log(`${verdictTable(verdict)}\n  seed       CHAOS_SEED=${seed}`);
    const suspects = verdict.rows.filter((row) => row.verdict !== 'match' || !row.final).slice(0, maxExplained);
    for (const row of suspects) console.log(await explainPayment(stack, row.paymentId, runs));
    return verdict;
  };

  return {
    seed,
    random,
    services,
    stack,
    app,
    client,
    wallets,
    async killAndRestartWorker() {
      await worker.kill();
      worker = await startWorker(services, stack, config, metricsPort, workerSettings);
    },
    async workerMetrics() {
      const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      return response.text();
    },
    loadUnderChaos,
    async close() {
      await worker.kill();
      await sweeper.stop();
      await client.close();
      await app.close();
      try {
        await stack.close();
      } finally {
        await services.close();
      }
    },
  };
}
