// Ledger throughput benchmark: `npm run bench:ledger`.
//
// Compares the ledger service (post() → Prisma $queryRaw → the PL/pgSQL function ledger_post,
// one round trip) with a baseline written with plain node-postgres: the simplest correct
// lock-append-update transaction (BEGIN; INSERT transaction; SELECT … FOR UPDATE; UPDATE each
// account; INSERT entries; COMMIT — seven round trips) on the same schema, so the same
// triggers and constraints apply to both.
//
// Workloads: "spread" moves 1 unit between random pairs of 1,000 funded accounts; "hot" moves
// 1 unit from one of 1,000 senders to a single hot account. Each runs at several concurrency
// levels for a fixed duration after a short warm-up; after every run the books are checked.
//
// Database: DATABASE_URL's server when set, otherwise an embedded PostgreSQL in
// .data/bench-postgres on a free port. A fresh database bench_<timestamp> is created, migrated
// and dropped at the end.
//
// Knobs (environment): BENCH_SECONDS (default 3), BENCH_WARMUP_SECONDS (default 0.5),
// BENCH_CONCURRENCY (default "1,8,32"), BENCH_ACCOUNTS (default 1000).

import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createDatabase, dataDir, dropDatabase, withDatabase } from '../src/db/database.ts';
import { startEmbeddedPostgres, type PostgresServer } from '../src/db/embedded-postgres.ts';
import { applyMigrations } from '../src/db/migrate.ts';
import { createPrisma, type PrismaClient } from '../src/db/prisma.ts';
import { newId } from '../src/ids.ts';
import { createAccount, ensureSystemAccount, post, type AccountType } from '../src/ledger/ledger.ts';
import { freePort } from '../src/temporal/dev-server.ts';
import {
  findPostmaster,
  machineCpu,
  numberFromEnv,
  packageVersion,
  percentile,
  readProcStat,
  cleanupOnSignal,
} from './bench-support.ts';
import { formatRow, type Column } from './bench-table.ts';
import { writeBenchResult } from './bench-results.ts';

const seconds = numberFromEnv('BENCH_SECONDS', 3);
const warmupSeconds = numberFromEnv('BENCH_WARMUP_SECONDS', 0.5);
const accountCount = Math.max(2, Math.floor(numberFromEnv('BENCH_ACCOUNTS', 1000)));
const concurrencies = (process.env.BENCH_CONCURRENCY ?? '1,8,32')
  .split(',')
  .map((value) => Number.parseInt(value.trim(), 10))
  .filter((value) => Number.isInteger(value) && value > 0);
/** Connections beyond the worker count, so a worker never waits for the pool. */
const poolHeadroom = 2;
/** Each account starts with this much; transfers move 1 unit. */
const fundingPerAccount = 1_000_000_000n;
/** ledger_post takes at most 16 entries: one funding debit and 15 credits per deposit. */
const fundingBatch = 15;
const maxLockRetries = 5;

const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

type Implementation = 'ledger' | 'baseline';
type WorkloadName = 'spread' | 'hot';
type Transfer = (from: string, to: string) => Promise<void>;

interface Workload {
  name: WorkloadName;
  /** Picks the next (from, to) pair. */
  next(): [string, string];
}

interface RunResult {
  transfers: number;
  errors: number;
  firstError: unknown;
  elapsedMs: number;
  throughput: number;
  p50: number;
  p99: number;
  /** CPU time of this Node process (the client) per successful transfer, in microseconds. */
  clientCpuPerTransfer: number;
  /** PostgreSQL's CPU time per successful transfer (µs); NaN when the server is not local. */
  serverCpuPerTransfer: number;
  /** Share of all the machine's CPU time that was busy during the run (client + server + rest). */
  machineBusy: number;
  /** Share of the machine's CPU time used by neither this process nor PostgreSQL. */
  otherBusy: number;
  books: BooksCheck;
}

interface BooksCheck {
  ok: boolean;
  detail: string;
}

// ---------------------------------------------------------------------------------------------
// Implementations
// ---------------------------------------------------------------------------------------------

/** (1) The ledger service: one round trip to ledger_post through Prisma. */
function ledgerTransfer(prisma: PrismaClient): Transfer {
  return async (from, to) => {
    await post(prisma, {
      kind: 'bench_transfer',
      idempotencyKey: newId('txn'),
      entries: [
        { accountId: from, amount: -1n },
        { accountId: to, amount: 1n },
      ],
    });
  };
}

interface AccountRow {
  balance: string;
  held: string;
  allow_negative: boolean;
  version: number;
  currency: string;
}

/**
 * (2) Baseline: the simplest correct lock-append-update transaction with plain pg, one
 * statement per round trip. Same idempotency key constraint, same lock order (accounts by
 * id), same balance_after / sequence bookkeeping as ledger_post.
 */
function baselineTransfer(pool: pg.Pool): Transfer {
  return async (from, to) => {
    const postings = [
      { accountId: from, amount: -1n },
      { accountId: to, amount: 1n },
    ];
    for (let attempt = 1; ; attempt++) {
      try {
        await baselineTransaction(pool, postings);
        return;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt < maxLockRetries && (code === '40P01' || code === '40001')) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
          continue;
        }
        throw error;
      }
    }
  };
}

async function baselineTransaction(pool: pg.Pool, postings: { accountId: string; amount: bigint }[]): Promise<void> {
  const transactionId = newId('txn');
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const inserted = await client.query(
      `INSERT INTO ledger_transactions (id, kind, reference, idempotency_key, metadata)
       VALUES ($1, $2, NULL, $3, NULL) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
      [transactionId, 'bench_transfer', newId('txn')],
    );
    if (inserted.rowCount === 0) {
      await client.query('ROLLBACK');
      return; // replay: nothing to do (never happens here, keys are fresh)
    }
    const accountIds = postings.map((posting) => posting.accountId);
    const locked = await client.query('SELECT id FROM accounts WHERE id = ANY ($1) ORDER BY id FOR UPDATE', [
      accountIds,
    ]);
    if (locked.rowCount !== new Set(accountIds).size) throw new Error('account_not_found');
    const entryValues: unknown[] = [];
    const placeholders: string[] = [];
    for (const posting of postings) {
      const updated = await client.query<AccountRow>(
        `UPDATE accounts SET balance = balance + $2, version = version + 1, updated_at = now()
         WHERE id = $1 RETURNING balance, held, allow_negative, version, currency`,
        [posting.accountId, posting.amount.toString()],
      );
      const account = updated.rows[0];
      if (!account) throw new Error('account_not_found');
      if (!account.allow_negative && BigInt(account.balance) - BigInt(account.held) < 0n) {
        throw new Error(`insufficient_funds: ${posting.accountId}`);
      }
      const base = entryValues.length;
      placeholders.push(
        `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}, $${base + 7}, clock_timestamp())`,
      );
      entryValues.push(
        newId('ent'),
        transactionId,
        posting.accountId,
        posting.amount.toString(),
        account.currency,
        account.balance,
        account.version,
      );
    }
    await client.query(
      `INSERT INTO ledger_entries (id, transaction_id, account_id, amount, currency, balance_after, sequence, created_at)
       VALUES ${placeholders.join(', ')}`,
      entryValues,
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

interface DriveResult {
  latencies: number[];
  errors: number;
  firstError: unknown;
  elapsedMs: number;
}

/** `concurrency` workers issue transfers back to back until `durationMs` has passed. */
async function drive(
  concurrency: number,
  durationMs: number,
  workload: Workload,
  transfer: Transfer,
): Promise<DriveResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const [from, to] = workload.next();
      const began = performance.now();
      try {
        await transfer(from, to);
        latencies.push(performance.now() - began);
      } catch (error) {
        errors++;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, errors, firstError, elapsedMs: performance.now() - start };
}

/** CPU milliseconds used so far by the postmaster and its live children (backends, WAL writer…). */
async function serverCpuMs(postmasterPid: number | undefined): Promise<number> {
  if (postmasterPid === undefined) return Number.NaN;
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = await readProcStat(pid);
    if (stat && (pid === postmasterPid || stat.ppid === postmasterPid)) total += stat.cpuMs;
  }
  return total;
}

async function countTransactions(admin: pg.Pool): Promise<number> {
  const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM ledger_transactions');
  return Number(rows[0]?.n ?? 0);
}

/**
 * The books balance: all entries sum to zero, every transaction sums to zero, and every
 * account's cached balance equals the sum of its entries, its version equals its entry count
 * and last sequence, and its last entry's balance_after equals its balance.
 */
async function checkBooks(admin: pg.Pool): Promise<BooksCheck> {
  const { rows } = await admin.query<{ total: string; unbalanced: string; mismatched: string }>(`
    SELECT
      (SELECT coalesce(sum(amount), 0) FROM ledger_entries)::text AS total,
      (SELECT count(*) FROM (
         SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0
       ) t)::text AS unbalanced,
      (SELECT count(*)
         FROM accounts a
         LEFT JOIN (
           SELECT account_id, sum(amount) AS total, count(*) AS n, max(sequence) AS last
             FROM ledger_entries GROUP BY account_id
         ) e ON e.account_id = a.id
         LEFT JOIN ledger_entries l ON l.account_id = a.id AND l.sequence = a.version
        WHERE a.balance <> coalesce(e.total, 0)
           OR a.version <> coalesce(e.n, 0)
           OR a.version <> coalesce(e.last, 0)
           OR (a.version > 0 AND l.balance_after IS DISTINCT FROM a.balance)
      )::text AS mismatched`);
  const row = rows[0];
  if (!row) return { ok: false, detail: 'no result' };
  const ok = row.total === '0' && row.unbalanced === '0' && row.mismatched === '0';
  return {
    ok,
    detail: `sum of entries ${row.total}, unbalanced transactions ${row.unbalanced}, mismatched accounts ${row.mismatched}`,
  };
}

async function runOne(
  url: string,
  admin: pg.Pool,
  postmasterPid: number | undefined,
  implementation: Implementation,
  workload: Workload,
  concurrency: number,
): Promise<RunResult> {
  const poolSize = concurrency + poolHeadroom;
  let transfer: Transfer;
  let close: () => Promise<void>;
  if (implementation === 'ledger') {
    const prisma = createPrisma(url, poolSize);
    transfer = ledgerTransfer(prisma);
    close = () => prisma.$disconnect();
  } else {
    const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5_000 });
    transfer = baselineTransfer(pool);
    close = () => pool.end();
  }
  try {
    await drive(concurrency, warmupSeconds * 1000, workload, transfer);
    const before = await countTransactions(admin);
    const cpuBefore = process.cpuUsage();
    const serverBefore = await serverCpuMs(postmasterPid);
    const machineBefore = machineCpu();
    const result = await drive(concurrency, seconds * 1000, workload, transfer);
    const cpu = process.cpuUsage(cpuBefore);
    const serverAfter = await serverCpuMs(postmasterPid);
    const machineAfter = machineCpu();
    const transfers = Math.max(1, result.latencies.length);
    const clientMs = (cpu.user + cpu.system) / 1000;
    const serverMs = serverAfter - serverBefore;
    const machineTotalMs = Math.max(1, machineAfter.total - machineBefore.total);
    const machineBusyMs = machineAfter.busy - machineBefore.busy;
    const committed = (await countTransactions(admin)) - before;
    const books = await checkBooks(admin);
    if (committed !== result.latencies.length) {
      books.ok = false;
      books.detail += `; ${committed} transactions committed but ${result.latencies.length} transfers succeeded`;
    }
    const sorted = Float64Array.from(result.latencies).sort();
    return {
      transfers: result.latencies.length,
      errors: result.errors,
      firstError: result.firstError,
      elapsedMs: result.elapsedMs,
      throughput: (result.latencies.length * 1000) / result.elapsedMs,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      clientCpuPerTransfer: (clientMs * 1000) / transfers,
      serverCpuPerTransfer: (serverMs * 1000) / transfers,
      machineBusy: machineBusyMs / machineTotalMs,
      otherBusy: Math.max(0, machineBusyMs - clientMs - serverMs) / machineTotalMs,
      books,
    };
  } finally {
    await close();
  }
}

// ---------------------------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------------------------

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Opens `count` accounts through the ledger service and funds each from external_funding. */
async function openFundedAccounts(
  prisma: PrismaClient,
  count: number,
  type: AccountType,
  funded: boolean,
): Promise<string[]> {
  const ids = await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    8,
    async () => (await createAccount(prisma, { merchantId: null, type, currency: 'USD' })).id,
  );
  if (!funded) return ids;
  const funding = await ensureSystemAccount(prisma, 'external_funding', 'USD');
  for (let i = 0; i < ids.length; i += fundingBatch) {
    const batch = ids.slice(i, i + fundingBatch);
    await post(prisma, {
      kind: 'bench_funding',
      idempotencyKey: newId('txn'),
      entries: [
        { accountId: funding, amount: -fundingPerAccount * BigInt(batch.length) },
        ...batch.map((accountId) => ({ accountId, amount: fundingPerAccount })),
      ],
    });
  }
  return ids;
}

function randomIndex(n: number): number {
  return Math.floor(Math.random() * n);
}

function spreadWorkload(accounts: string[]): Workload {
  return {
    name: 'spread',
    next() {
      const i = randomIndex(accounts.length);
      let j = randomIndex(accounts.length - 1);
      if (j >= i) j++;
      return [accounts[i] as string, accounts[j] as string];
    },
  };
}

function hotWorkload(senders: string[], hot: string): Workload {
  return {
    name: 'hot',
    next() {
      return [senders[randomIndex(senders.length)] as string, hot];
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

const columns = [
  { title: 'workload', width: 8, left: true },
  { title: 'conc', width: 4 },
  { title: 'ledger tx/s', width: 11 },
  { title: 'p50 ms', width: 7 },
  { title: 'p99 ms', width: 7 },
  { title: 'baseline tx/s', width: 13 },
  { title: 'p50 ms', width: 7 },
  { title: 'p99 ms', width: 7 },
  { title: 'ledger/base', width: 11 },
  { title: 'errors', width: 6 },
  { title: 'books', width: 7, left: true },
];

const cpuColumns = [
  { title: 'workload', width: 8, left: true },
  { title: 'conc', width: 4 },
  { title: 'impl', width: 8, left: true },
  { title: 'client µs/tx', width: 12 },
  { title: 'server µs/tx', width: 12 },
  { title: 'machine busy', width: 12 },
  { title: 'other busy', width: 10 },
];

const formatLedgerRow = (cells: string[], layout: Column[] = columns): string => formatRow(layout, cells);

const formatCpuRow = (cells: string[]): string => formatRow(cpuColumns, cells);
const micros = (value: number): string => (Number.isFinite(value) ? Math.round(value).toString() : '-');
const percent = (value: number): string => `${Math.round(value * 100)}%`;
const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '-');
const rate = (value: number): string => Math.round(value).toLocaleString('en-US');

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.split('\n').slice(-3).join(' ').trim()}`;
  return String(error);
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (concurrencies.length === 0) throw new Error('BENCH_CONCURRENCY names no concurrency level');
  const databaseName = `bench_${Date.now()}`;
  let server: PostgresServer | undefined;
  let adminUrl: string;
  let url: string;
  if (process.env.DATABASE_URL) {
    adminUrl = withDatabase(process.env.DATABASE_URL, 'postgres');
    url = withDatabase(process.env.DATABASE_URL, databaseName);
  } else {
    log('starting embedded PostgreSQL in .data/bench-postgres');
    server = await startEmbeddedPostgres(path.join(dataDir, 'bench-postgres'), await freePort(), log);
    adminUrl = server.adminUrl;
    url = server.urlFor(databaseName);
  }

  let created = false;
  let admin: pg.Pool | undefined;
  let setupPrisma: PrismaClient | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      await setupPrisma?.$disconnect().catch(() => {});
      await admin?.end().catch(() => {});
      if (created) {
        await dropDatabase(adminUrl, databaseName).catch((error: unknown) => {
          log(`could not drop ${databaseName}: ${String(error)}`);
        });
      }
      await server?.stop().catch((error: unknown) => log(`could not stop PostgreSQL: ${String(error)}`));
    })();
    return cleaning;
  };
  const stopListening = cleanupOnSignal(cleanup, log);

  try {
    await createDatabase(adminUrl, databaseName);
    created = true;
    log(`database ${databaseName}: applying migrations`);
    await applyMigrations(url);
    admin = new pg.Pool({ connectionString: url, max: 2 });

    const settings = await admin.query<{ name: string; setting: string }>(
      `SELECT name, setting || coalesce(unit, '') AS setting FROM pg_settings
        WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')
        ORDER BY name`,
    );
    const setting = (name: string): string => settings.rows.find((row) => row.name === name)?.setting ?? '?';

    log(`opening and funding ${accountCount} spread accounts and ${accountCount} hot-workload senders`);
    setupPrisma = createPrisma(url, 10);
    const spreadAccounts = await openFundedAccounts(setupPrisma, accountCount, 'customer', true);
    const senders = await openFundedAccounts(setupPrisma, accountCount, 'customer', true);
    const [hot] = await openFundedAccounts(setupPrisma, 1, 'merchant', false);
    await setupPrisma.$disconnect();
    setupPrisma = undefined;
    if (!hot) throw new Error('no hot account');
    const setupBooks = await checkBooks(admin);
    if (!setupBooks.ok) throw new Error(`books do not balance after setup: ${setupBooks.detail}`);

    const cpus = os.cpus();
    console.log('Ledger benchmark');
    console.log(
      `machine: ${os.availableParallelism()} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ` +
        `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}`,
    );
    console.log(
      `postgres: ${setting('server_version')} (${server ? 'embedded' : 'DATABASE_URL'}), fsync=${setting('fsync')}, ` +
        `synchronous_commit=${setting('synchronous_commit')}, shared_buffers=${setting('shared_buffers')}`,
    );
    console.log(
      `client: node ${process.version}, @prisma/client ${await packageVersion('@prisma/client')}, ` +
        `@prisma/adapter-pg ${await packageVersion('@prisma/adapter-pg')}, pg ${await packageVersion('pg')}`,
    );
    console.log(
      `runs: ${seconds} s each after ${warmupSeconds} s warm-up; pool size = concurrency + ${poolHeadroom}; ` +
        `${accountCount} accounts; transfers of 1 unit`,
    );
    console.log('ledger   = post() via Prisma $queryRaw → ledger_post(), 1 round trip');
    console.log('baseline = plain pg: BEGIN, INSERT txn, SELECT … FOR UPDATE, 2× UPDATE, INSERT entries, COMMIT');
    console.log('');

    const postmasterPid = await findPostmaster(admin);
    const workloads: Workload[] = [spreadWorkload(spreadAccounts), hotWorkload(senders, hot)];
    const header = formatLedgerRow(columns.map((column) => column.title));
    const lines: string[] = [header, '-'.repeat(header.length)];
    process.stdout.write(`${lines.join('\n')}\n`);
    const failures: string[] = [];
    const cpuLines: string[] = [];
    const spread: { concurrency: number; ledger: RunResult; baseline: RunResult }[] = [];
    let runIndex = 0;
    for (const workload of workloads) {
      for (const concurrency of concurrencies) {
        // Alternate which implementation goes first, so table growth favours neither.
        const order: Implementation[] = runIndex++ % 2 === 0 ? ['ledger', 'baseline'] : ['baseline', 'ledger'];
        const results = {} as Record<Implementation, RunResult>;
        for (const implementation of order) {
          results[implementation] = await runOne(url, admin, postmasterPid, implementation, workload, concurrency);
          const result = results[implementation];
          if (result.errors > 0) {
            failures.push(
              `${workload.name} × ${concurrency} ${implementation}: ${result.errors} errors, first: ${describeError(result.firstError)}`,
            );
          }
          if (!result.books.ok) {
            failures.push(`${workload.name} × ${concurrency} ${implementation}: books FAIL (${result.books.detail})`);
          }
        }
        const { ledger, baseline } = results;
        if (workload.name === 'spread') spread.push({ concurrency, ledger, baseline });
        const row = formatLedgerRow([
          workload.name,
          String(concurrency),
          rate(ledger.throughput),
          ms(ledger.p50),
          ms(ledger.p99),
          rate(baseline.throughput),
          ms(baseline.p50),
          ms(baseline.p99),
          `${(ledger.throughput / baseline.throughput).toFixed(2)}x`,
          `${ledger.errors}/${baseline.errors}`,
          `${ledger.books.ok ? 'OK' : 'FAIL'}/${baseline.books.ok ? 'OK' : 'FAIL'}`,
        ]);
        process.stdout.write(`${row}\n`);
        for (const implementation of ['ledger', 'baseline'] as const) {
          const result = results[implementation];
          cpuLines.push(
            formatCpuRow([
              workload.name,
              String(concurrency),
              implementation,
              micros(result.clientCpuPerTransfer),
              micros(result.serverCpuPerTransfer),
              percent(result.machineBusy),
              postmasterPid === undefined ? '-' : percent(result.otherBusy),
            ]),
          );
        }
      }
    }
    const cpuHeader = formatCpuRow(cpuColumns.map((column) => column.title));
    console.log('');
    console.log(
      'CPU per transfer: client = this Node process, server = PostgreSQL processes (local server only); ' +
        'busy = share of all cores; other = busy minus client and server',
    );
    process.stdout.write(`${[cpuHeader, '-'.repeat(cpuHeader.length), ...cpuLines].join('\n')}\n`);
    const finalBooks = await checkBooks(admin);
    const transactions = await countTransactions(admin);
    console.log('');
    console.log(
      `errors and books: ledger/baseline. Final books check over ${transactions.toLocaleString('en-US')} ` +
        `transactions: ${finalBooks.ok ? 'OK' : 'FAIL'} (${finalBooks.detail})`,
    );
    for (const failure of failures) console.log(`! ${failure}`);
    if (!finalBooks.ok || failures.some((failure) => failure.includes('books FAIL'))) process.exitCode = 1;
    // The headline: the spread workload's best concurrency, beside the plain-SQL baseline at the same one.
    const best = [...spread].sort((a, b) => b.ledger.throughput - a.ledger.throughput)[0];
    await writeBenchResult({
      bench: 'ledger',
      checksPassed: process.exitCode !== 1 && failures.length === 0,
      figures: best
        ? [
            {
              name: 'ledger transfers (two entries each)',
              value: best.ledger.throughput,
              unit: 'transfers/s',
              baseline: { name: 'naive SQL transfer (plain pg, 7 round trips)', value: best.baseline.throughput },
              p99Ms: best.ledger.p99,
              row: `spread × ${best.concurrency}`,
            },
          ]
        : [],
    });
  } finally {
    await cleanup();
    stopListening();
  }
}

await main();
