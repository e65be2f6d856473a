// Import benchmark: `npm run bench:import`.
//
// Stages BENCH_IMPORT_ROWS payments (5 % duplicate references, 1 % invalid of every kind) and
// imports them twice, in one run, on the same PostgreSQL server, each time into a fresh
// database holding the same staged rows:
//   1. direct: recordStagedBatch (src/records/staged-batch.ts, the import activity's own code:
//      record_staged_batch plus the outbox events, one database transaction per batch) called
//      in a loop from this process, without Temporal: the baseline;
//   2. workflow: the import workflow (workflows/import.ts) started with the Temporal client and
//      run by src/worker.ts as a child process, one activity per batch, continuing as new;
// and, in the direct database afterwards, 3. floor: one plain INSERT … SELECT of every staged
// row joined to its account into a copy of recorded_payments: what moving the rows costs with
// no validation, dedup, ledger or events (a lower bound on time, not a correct import).
//
// For each: seconds, rows/s, the ratio to direct, and the CPU of every process tree (PostgreSQL,
// worker, Temporal dev server, this process) from /proc. At the end: exact outcome counts in
// both databases, the ledger credited exactly the recorded amounts, one event per record, and
// the ledger integrity check (reconcile()). Exits non-zero if any fails. No timing assertions.
//
// The report goes to stdout, progress to stderr, and the report into docs/benchmarks.md
// (section `# Import benchmark`). Knobs: the BENCH_* variables in `optionDocs` below.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import pg from 'pg';
import protoPackage from '@temporalio/proto';
import { loadConfig } from '../src/config.ts';
import { createDatabase, dataDir, dropDatabase, resolveDatabase, withDatabase } from '../src/db/database.ts';
import { createPrisma } from '../src/db/prisma.ts';
import { cipherFor } from '../src/crypto/column-cipher.ts';
import { defaultImportParallelBatches, defaultRecordLimits, type RecordLimits } from '../src/domain/record-limits.ts';
import { runStripes, startingStripes, type StripeRunEnd } from '../src/domain/batch-stripes.ts';
import { maxTimerDelayMs } from '../src/events/poll-loop.ts';
import type { ImportProgress } from '../src/domain/import-progress.ts';
import { reconcile } from '../src/ledger/reconcile.ts';
import { closeImportRun, openImportRun } from '../src/records/import-runs.ts';
import { recordStagedBatch } from '../src/records/staged-batch.ts';
import { connectClient } from '../src/temporal/client.ts';
import { ensureTemporal, findTemporalBinary, freePort, type TemporalServer } from '../src/temporal/dev-server.ts';
import type { importWorkflow } from '../workflows/import.ts';
import { docsMarkers, runBlock, updateDocsSection } from './bench-docs.ts';
import { expectedOutcomes, invalidKinds, setUpDatabase, type StagingShape } from './bench-import-staging.ts';
import {
  CpuMeter,
  findDevServerPid,
  startChild,
  waitUntil,
  type Child,
  type CpuSample,
  type CpuSpan,
} from './bench-processes.ts';
import { cleanupOnSignal, findPostmaster, numberFromEnv, packageVersion, benchKeyring } from './bench-support.ts';
import { formatRow, header, type Column } from './bench-table.ts';
import { writeBenchResult } from './bench-results.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

const rowCount = Math.floor(numberFromEnv('BENCH_IMPORT_ROWS', 1_000_000));
const batchSize = Math.floor(numberFromEnv('BENCH_IMPORT_BATCH_SIZE', 5_000));
const batchesPerRun = Math.floor(numberFromEnv('BENCH_IMPORT_BATCHES_PER_RUN', 20));
const parallelBatches = Math.floor(numberFromEnv('BENCH_IMPORT_PARALLEL_BATCHES', defaultImportParallelBatches));
const merchantCount = Math.floor(numberFromEnv('BENCH_IMPORT_MERCHANTS', 4));
const accountsPerMerchant = Math.floor(numberFromEnv('BENCH_IMPORT_ACCOUNTS_PER_MERCHANT', 250));
const paths = (process.env.BENCH_IMPORT_PATHS ?? 'direct,workflow,floor').split(',').map((p) => p.trim());
const label = process.env.BENCH_LABEL?.trim() || 'latest run';
const writeDocs = process.env.BENCH_WRITE_DOCS !== '0';
const keepData = process.env.BENCH_KEEP_DATA === '1';
const profileDir = process.env.BENCH_PROFILE_DIR?.trim() || undefined;

const optionDocs: { name: string; fallback: string; meaning: string }[] = [
  { name: 'BENCH_IMPORT_ROWS', fallback: '1000000', meaning: 'staged rows, imported once per path' },
  { name: 'BENCH_IMPORT_BATCH_SIZE', fallback: '5000', meaning: 'rows per batch (one transaction, one activity)' },
  { name: 'BENCH_IMPORT_BATCHES_PER_RUN', fallback: '20', meaning: 'batches before the workflow continues as new' },
  {
    name: 'BENCH_IMPORT_PARALLEL_BATCHES',
    fallback: String(defaultImportParallelBatches),
    meaning: 'batches at once, on both paths (IMPORT_PARALLEL_BATCHES)',
  },
  { name: 'BENCH_IMPORT_MERCHANTS', fallback: '4', meaning: 'merchants the staged rows belong to' },
  { name: 'BENCH_IMPORT_ACCOUNTS_PER_MERCHANT', fallback: '250', meaning: 'accounts (external references) each' },
  { name: 'BENCH_IMPORT_PATHS', fallback: 'direct,workflow,floor', meaning: 'which paths to run, in this order' },
  { name: 'BENCH_LABEL', fallback: 'latest run', meaning: 'title of this run in docs/benchmarks.md' },
  { name: 'BENCH_WRITE_DOCS', fallback: '1', meaning: '`0`: print only, leave docs/benchmarks.md alone' },
  { name: 'BENCH_KEEP_DATA', fallback: '0', meaning: '`1`: keep the databases and the logs' },
  { name: 'BENCH_PROFILE_DIR', fallback: 'unset', meaning: 'the worker writes a V8 CPU profile there' },
];

for (const name of paths) {
  if (!['direct', 'workflow', 'floor'].includes(name)) throw new Error(`BENCH_IMPORT_PATHS: unknown path ${name}`);
}

const limits: RecordLimits = defaultRecordLimits;
const currency = 'USD';
/**
 * Keeps the schedules and the outbox relay out of the measurement (see the docs section): the
 * longest delay a Node timer holds (about 24.8 days). Until 2026-12-06 this was 30 days, which
 * Node turned into 1 ms: the worker's relay polled in a busy loop (0.2 to 0.3 cores) on both paths.
 */
const quietIntervalMs = maxTimerDelayMs;
const progressLogMs = 10_000;

const began = performance.now();
const log = (line: string): void => {
  process.stderr.write(`[bench +${((performance.now() - began) / 1000).toFixed(1)}s] ${line}\n`);
};

// ---------------------------------------------------------------------------------------------
// Staging: the same rows in every database, generated by PostgreSQL
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

interface Outcome {
  recorded: number;
  duplicates: number;
  invalid: number;
  unprocessed: number;
  invalidKinds: number;
  problems: string[];
}

async function checkDatabase(url: string): Promise<Outcome> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const problems: string[] = [];
  try {
    const { rows } = await client.query<Record<string, string>>(`
      SELECT count(*) FILTER (WHERE outcome = 'recorded') AS recorded,
             count(*) FILTER (WHERE outcome = 'duplicate') AS duplicates,
             count(*) FILTER (WHERE outcome LIKE 'invalid:%') AS invalid,
             count(*) FILTER (WHERE processed_at IS NULL) AS unprocessed,
             count(DISTINCT outcome) FILTER (WHERE outcome LIKE 'invalid:%') AS kinds
        FROM payment_staging`);
    const row = rows[0] ?? {};
    const money = await client.query<Record<string, string>>(`
      SELECT (SELECT coalesce(sum(amount), 0) FROM recorded_payments)::text AS recorded_amount,
             (SELECT coalesce(sum(balance), 0) FROM accounts WHERE merchant_id IS NOT NULL)::text AS credited,
             (SELECT count(*) FROM recorded_payments)::text AS records,
             (SELECT count(*) FROM events WHERE type = 'payment_record.created')::text AS events,
             (SELECT count(*) FROM ledger_transactions WHERE kind = 'payment_record')::text AS transactions`);
    const facts = money.rows[0] ?? {};
    if (facts.recorded_amount !== facts.credited) {
      problems.push(`credited ${facts.credited} but recorded ${facts.recorded_amount}`);
    }
    for (const what of ['records', 'events', 'transactions'] as const) {
      if (facts[what] !== row.recorded) problems.push(`${facts[what]} ${what} for ${row.recorded} recorded rows`);
    }
    const prisma = createPrisma(url, 2);
    try {
      const discrepancies = await reconcile(prisma);
      if (discrepancies.length > 0) problems.push(`ledger integrity: ${discrepancies.length} discrepancies`);
    } finally {
      await prisma.$disconnect();
    }
    return {
      recorded: Number(row.recorded),
      duplicates: Number(row.duplicates),
      invalid: Number(row.invalid),
      unprocessed: Number(row.unprocessed),
      invalidKinds: Number(row.kinds),
      problems,
    };
  } finally {
    await client.end();
  }
}

/** Time spent inside record_staged_batch, as the batches recorded it (import_runs.duration_ms). */
async function batchTimes(url: string): Promise<{ batches: number; sqlMs: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ batches: string; ms: string }>(
      `SELECT count(*) AS batches, coalesce(sum(duration_ms), 0) AS ms FROM import_runs WHERE kind = 'batch'`,
    );
    return { batches: Number(rows[0]?.batches ?? 0), sqlMs: Number(rows[0]?.ms ?? 0) };
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// The paths
// ---------------------------------------------------------------------------------------------

const groups = ['postgres', 'worker', 'temporal', 'bench'] as const;
type Group = (typeof groups)[number];

interface Measured {
  path: 'direct' | 'workflow' | 'floor';
  rows: number;
  batches: number;
  /** Milliseconds inside record_staged_batch, summed over batches (NaN for the floor). */
  sqlMs: number;
  span: CpuSpan<Group>;
}

/** The import without Temporal: the same stripes and batches, as many at once. */
async function runDirect(url: string): Promise<{ rows: number }> {
  const prisma = createPrisma(url, parallelBatches + 1);
  const cipher = cipherFor(benchKeyring());
  const runId = `imp_bench_direct_${randomBytes(4).toString('hex')}`;
  try {
    await openImportRun(prisma, runId);
    let rows = 0;
    let lastLog = performance.now();
    let end: StripeRunEnd = { stripes: startingStripes(parallelBatches, 0n), exhausted: false };
    while (!end.exhausted) {
      end = await runStripes({
        stripes: end.stripes,
        batchSize,
        maxBatches: batchesPerRun,
        run: (batch) => recordStagedBatch(prisma, cipher, { runId, ...batch, batchSize, limits }),
        finished: (_batch, result) => {
          rows += result.rows;
          if (performance.now() - lastLog > progressLogMs) {
            log(`direct: ${rows.toLocaleString('en-US')} rows`);
            lastLog = performance.now();
          }
        },
      });
    }
    await closeImportRun(prisma, runId, { status: 'succeeded' });
    return { rows };
  } finally {
    await prisma.$disconnect();
  }
}

async function runFloor(url: string): Promise<{ rows: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE bench_floor (LIKE recorded_payments INCLUDING DEFAULTS)');
    const result = await client.query(
      `INSERT INTO bench_floor (id, merchant_id, account_id, reference_number, account_reference, customer_reference,
                                amount, currency, paid_at, channel, metadata, source, staging_id, transaction_id)
       SELECT 'rec_' || s.id, s.merchant_id, a.id, s.reference_number, s.account_reference, s.customer_reference,
              s.amount_minor, s.currency, coalesce(s.paid_at, now()), s.channel, s.metadata, 'staging', s.id, 'txn_' || s.id
         FROM payment_staging s JOIN accounts a ON a.merchant_id = s.merchant_id AND a.external_reference = s.account_reference`,
    );
    return { rows: result.rowCount ?? 0 };
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const resultColumns: Column[] = [
  { title: 'path', width: 8, left: true },
  { title: 'rows', width: 9 },
  { title: 'batches', width: 7 },
  { title: 'seconds', width: 7 },
  { title: 'rows/s', width: 7 },
  { title: 'vs direct', width: 9 },
  { title: 'in SQL s', width: 8 },
  { title: 'SQL share', width: 9 },
];

const cpuColumns: Column[] = [
  { title: 'path', width: 8, left: true },
  { title: 'postgres', width: 8 },
  { title: 'worker', width: 6 },
  { title: 'temporal', width: 8 },
  { title: 'bench', width: 5 },
  { title: 'machine', width: 7 },
  { title: 'other', width: 5 },
  { title: 'pg µs/row', width: 9 },
  { title: 'worker µs/row', width: 13 },
  { title: 'temporal µs/row', width: 15 },
  { title: 'bench µs/row', width: 12 },
];

const count = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-');
const cores = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '-');
const micros = (value: number): string => (Number.isFinite(value) ? Math.round(value).toString() : '-');

const { sectionStart, sectionEnd, runStart, runEnd } = docsMarkers('import');

function docsSection(runs: string[]): string {
  const options = [
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...optionDocs.map((option) => `| \`${option.name}\` | \`${option.fallback}\` | ${option.meaning} |`),
  ];
  return `${sectionStart}

# Import benchmark

\`npm run bench:import\` (script: \`scripts/bench-import.ts\`) stages payments and imports them end to end through the
import workflow, beside the same set-based SQL run directly, in one run on the same PostgreSQL server. Issue 10's goal
on this 2-core machine: 1,000,000 rows in under 2 minutes through the workflow, at no less than 0.5× the direct rate.

This section is written by the script: each run replaces its own results block (by \`BENCH_LABEL\`) and keeps the
others. The analysis (bottleneck, what was tried) follows the section.

## What is measured

**Staged rows.** \`BENCH_IMPORT_ROWS\` rows, generated by one \`INSERT … SELECT … FROM generate_series\` in each
database (identical rows, not timed), over \`BENCH_IMPORT_MERCHANTS\` merchants with
\`BENCH_IMPORT_ACCOUNTS_PER_MERCHANT\` USD accounts each: every 20th row (5 %) repeats the reference of an earlier
valid row of the same merchant up to 50,000 rows back (duplicates within a batch and across batches); every 100th
row (1 %) is invalid, by turns an unknown merchant, an unknown account, a currency mismatch, a zero amount, an amount
over the limit and a \`paid_at\` in the future. Amounts 100 to 99,999 cents, \`paid_at\` spread over 60 days (two or three
monthly partitions), a customer reference on every row (20,000 distinct), metadata on every 10th row. Then
\`VACUUM ANALYZE\`.

**Paths**, each on a fresh, migrated database of its own with the same staged rows:

- \`direct\` (the baseline): \`recordStagedBatch\` (\`src/records/staged-batch.ts\`, what the import activity calls:
  \`record_staged_batch\` and the outbox events in one database transaction per batch) from the bench process,
  stripe by stripe as the workflow does (\`runStripes\`, \`src/domain/batch-stripes.ts\`: the staged rows split by a
  hash of (merchant, reference), one batch per stripe at once, each stripe by keyset), without Temporal.
- \`workflow\`: \`importWorkflow\` (\`workflows/import.ts\`) started with the Temporal client and awaited; the worker
  (\`src/worker.ts\`) runs as a child process against a Temporal dev server (\`ensureTemporal\`, in memory); one
  activity per batch, continue-as-new every \`BENCH_IMPORT_BATCHES_PER_RUN\` batches. The worker's schedules and
  outbox relay are kept out of the measurement (\`IMPORT_INTERVAL_MS\`, \`MAINTENANCE_INTERVAL_MS\` and
  \`EVENT_RELAY_INTERVAL_MS\` = 2^31 - 1 ms, about 24.8 days, the longest timer Node keeps, \`IMPORT_MERCHANT_IDS\`
  naming no merchant), so both paths do the same work:
  the relay would dispatch the events afterwards in production, in the background.
- \`floor\`: in the direct database afterwards, one \`INSERT INTO\` a plain copy of \`recorded_payments\`
  \`SELECT …\` every staged row joined to its account: moving the rows with no validation, dedup, ledger, events or
  marking. A lower bound on time, not a correct import.

**Columns.** \`seconds\` from the first batch to the last (workflow: from the start call to its result); \`rows/s\` =
staged rows ÷ seconds; \`in SQL s\` = the time inside \`record_staged_batch\` as the batches recorded it
(\`import_runs.duration_ms\`), and its share of the path's time (the rest: events written by the activity, round trips,
Temporal). CPU by process tree from \`/proc\` over the path: PostgreSQL (postmaster and backends), worker, Temporal
dev server, the bench process (the direct path's client), in cores (2 = both vCPUs busy) and µs per staged row;
\`other\` = machine minus those (other users of this shared VM).

**Checks** in both databases: outcome counts exactly as staged, nothing left unprocessed, all six invalid kinds seen, the
merchants' accounts credited exactly the recorded amounts, one recorded payment, one ledger transaction and one
\`payment_record.created\` event per recorded row, and \`reconcile()\` clean. The bench exits non-zero otherwise; it
makes no timing assertions.

## How to run

\`\`\`sh
npm run bench:import                                          # 1,000,000 rows, results into this file
BENCH_IMPORT_ROWS=100000 BENCH_WRITE_DOCS=0 npm run bench:import   # a short run that leaves this file alone
BENCH_IMPORT_BATCH_SIZE=10000 BENCH_LABEL='batch 10k' npm run bench:import
\`\`\`

Options, all environment variables (and \`DATABASE_URL\` / \`TEMPORAL_ADDRESS\` to use running servers):

${options.join('\n')}

## Results

${runs.join('\n\n')}

${sectionEnd}
`;
}

function commandLine(): string {
  const shown = Object.keys(process.env)
    .filter((name) => name.startsWith('BENCH_'))
    .sort()
    .map((name) => `${name}=${shellQuote(process.env[name] ?? '')}`);
  return [...shown, 'npm run bench:import'].join(' ');
}

function shellQuote(value: string): string {
  return /^[\w.,:/@-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const tag = randomBytes(3).toString('hex');
  const runDir = path.join(dataDir, 'bench-import', `${Date.now()}-${tag}`);
  const directName = `bench_import_direct_${Date.now()}`;
  const workflowName = `bench_import_workflow_${Date.now()}`;
  const taskQueue = `bench-import-${tag}`;
  const command = commandLine();
  const externalTemporal = process.env.TEMPORAL_ADDRESS;
  const externalDatabase = process.env.DATABASE_URL;
  const imposed: Record<string, string> = {
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    TEMPORAL_LOG_LEVEL: process.env.TEMPORAL_LOG_LEVEL ?? 'WARN',
    TEMPORAL_TASK_QUEUE: taskQueue,
    IMPORT_INTERVAL_MS: String(quietIntervalMs),
    IMPORT_MERCHANT_IDS: 'mer_no_such_merchant',
    MAINTENANCE_INTERVAL_MS: String(quietIntervalMs),
    EVENT_RELAY_INTERVAL_MS: String(quietIntervalMs),
  };
  Object.assign(process.env, imposed);
  const config = loadConfig();

  const stops: { name: string; stop: () => Promise<void> }[] = [];
  let cleaning: Promise<void> | undefined;
  let keepRunDir = keepData;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      for (const { name, stop } of stops.reverse()) {
        await stop().catch((error: unknown) => log(`could not stop ${name}: ${String(error)}`));
      }
      if (keepRunDir) log(`kept ${path.relative(projectRoot, runDir)} (logs)`);
      else await rm(runDir, { recursive: true, force: true }).catch(() => {});
    })();
    return cleaning;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(signal);
  const stopListening = cleanupOnSignal(cleanup, log);

  try {
    await mkdir(runDir, { recursive: true });
    log('starting Temporal and PostgreSQL');
    const [temporalStart, databaseStart] = await Promise.allSettled([
      ensureTemporal(externalTemporal, { port: 0, uiPort: 0, logFile: path.join(runDir, 'temporal.log'), log }),
      freePort().then((port) =>
        resolveDatabase(
          externalDatabase ? withDatabase(externalDatabase, directName) : undefined,
          { folder: 'bench-import-postgres', port, database: directName },
          log,
        ),
      ),
    ]);
    if (temporalStart.status === 'fulfilled') {
      const started: TemporalServer = temporalStart.value;
      stops.push({ name: 'Temporal', stop: () => started.stop() });
    }
    if (databaseStart.status === 'rejected') throw databaseStart.reason;
    const directUrl = databaseStart.value.url;
    const embedded = databaseStart.value.embedded;
    const adminUrl = embedded?.adminUrl ?? withDatabase(directUrl, 'postgres');
    const workflowUrl = withDatabase(directUrl, workflowName);
    if (embedded) stops.push({ name: 'PostgreSQL', stop: () => embedded.stop() });
    for (const name of [directName, workflowName]) {
      stops.push({
        name: `database ${name}`,
        stop: () => (keepData ? Promise.resolve(log(`kept database ${name}`)) : dropDatabase(adminUrl, name)),
      });
    }
    if (temporalStart.status === 'rejected') throw temporalStart.reason;
    const temporalServer = temporalStart.value;
    await createDatabase(adminUrl, workflowName);

    const staging = performance.now();
    log(`staging ${rowCount.toLocaleString('en-US')} rows in each of two databases`);
    const shape: StagingShape = {
      rows: rowCount,
      merchants: merchantCount,
      accountsPerMerchant,
      maxAmountMinor: limits.maxAmountMinor,
      currency,
    };
    await Promise.all([setUpDatabase(directUrl, shape), setUpDatabase(workflowUrl, shape)]);
    const stagingSeconds = (performance.now() - staging) / 1000;
    log(`staged in ${stagingSeconds.toFixed(1)} s (both databases, in parallel)`);

    const temporal = await connectClient(temporalServer.address, config.temporalNamespace, benchKeyring());
    stops.push({ name: 'Temporal client', stop: () => temporal.connection.close() });
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: workflowUrl,
      TEMPORAL_ADDRESS: temporalServer.address,
    };
    const worker: Child = await startChild(
      'worker',
      'src/worker.ts',
      childEnv,
      path.join(runDir, 'worker.log'),
      profileDir,
    );
    stops.push({ name: 'worker', stop: () => worker.stop() });
    await waitUntil(
      'worker',
      async () => {
        const answer = await temporal.workflowService.describeTaskQueue({
          namespace: config.temporalNamespace,
          taskQueue: { name: taskQueue },
          taskQueueType: protoPackage.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        });
        return (answer.pollers?.length ?? 0) > 0;
      },
      [worker],
    );

    const admin = new pg.Pool({ connectionString: directUrl, max: 1 });
    admin.on('error', (error) => log(`admin pool: ${error.message}`));
    stops.push({ name: 'admin pool', stop: () => admin.end() });
    const meter = new CpuMeter(groups, {
      postgres: await findPostmaster(admin),
      worker: worker.pid,
      temporal: externalTemporal ? undefined : await findDevServerPid(),
    });

    const measured: Measured[] = [];
    for (const name of paths) {
      log(`${name}: importing`);
      const before: CpuSample<Group> = await meter.sample();
      let rows: number;
      if (name === 'direct') rows = (await runDirect(directUrl)).rows;
      else if (name === 'floor') rows = (await runFloor(directUrl)).rows;
      else {
        const handle = await temporal.workflow.start<typeof importWorkflow>('importWorkflow', {
          taskQueue,
          workflowId: `bench-import-${tag}`,
          args: [{ batchSize, batchesPerRun, parallelBatches, limits }],
        });
        const progress = setInterval(() => {
          void handle
            .query<ImportProgress>('progress')
            .then((p) => log(`workflow: ${p.rows.toLocaleString('en-US')} rows, ${p.batches} batches`))
            .catch(() => {});
        }, progressLogMs);
        try {
          rows = (await handle.result()).rows;
        } finally {
          clearInterval(progress);
        }
      }
      const span = meter.span(before, await meter.sample());
      const times =
        name === 'floor'
          ? { batches: 1, sqlMs: Number.NaN }
          : await batchTimes(name === 'direct' ? directUrl : workflowUrl);
      measured.push({ path: name as Measured['path'], rows, batches: times.batches, sqlMs: times.sqlMs, span });
      log(`${name}: ${rows.toLocaleString('en-US')} rows in ${(span.wallMs / 1000).toFixed(1)} s`);
    }

    log('checking outcomes, balances, events and ledger integrity');
    const expected = expectedOutcomes(rowCount);
    const failures: string[] = [];
    const checked: string[] = [];
    for (const [name, url] of [
      ['direct', directUrl],
      ['workflow', workflowUrl],
    ] as const) {
      if (!paths.includes(name)) continue;
      const outcome = await checkDatabase(url);
      const problems = [...outcome.problems];
      if (outcome.recorded !== expected.recorded) problems.push(`recorded ${outcome.recorded} ≠ ${expected.recorded}`);
      if (outcome.duplicates !== expected.duplicates)
        problems.push(`duplicates ${outcome.duplicates} ≠ ${expected.duplicates}`);
      if (outcome.invalid !== expected.invalid) problems.push(`invalid ${outcome.invalid} ≠ ${expected.invalid}`);
      if (outcome.unprocessed !== 0) problems.push(`${outcome.unprocessed} rows left unprocessed`);
      if (outcome.invalidKinds !== invalidKinds.length && rowCount >= 600)
        problems.push(`${outcome.invalidKinds} invalid kinds seen, not ${invalidKinds.length}`);
      checked.push(
        `${name}: recorded ${count(outcome.recorded)}, duplicates ${count(outcome.duplicates)}, invalid ` +
          `${count(outcome.invalid)} (${outcome.invalidKinds} kinds) → ${problems.length === 0 ? 'OK' : 'FAIL'}`,
      );
      failures.push(...problems.map((problem) => `${name}: ${problem}`));
    }

    const settings = await admin.query<{ name: string; setting: string }>(
      `SELECT name, setting || coalesce(unit, '') AS setting FROM pg_settings
        WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers') ORDER BY name`,
    );
    const setting = (name: string): string => settings.rows.find((row) => row.name === name)?.setting ?? '?';
    const temporalVersion = externalTemporal
      ? 'external Temporal'
      : await findTemporalBinary().then((binary) =>
          binary
            ? run(binary, ['--version'])
                .then(({ stdout }) => stdout.trim())
                .catch(() => 'version unknown')
            : 'SDK download',
        );
    const cpus = os.cpus();
    const machineLine =
      `machine: ${os.availableParallelism()} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}`;
    const versionsLine =
      `versions: node ${process.version}, ${temporalVersion}, postgres ${setting('server_version')} ` +
      `(${embedded ? 'embedded' : 'DATABASE_URL'}, fsync=${setting('fsync')}, synchronous_commit=` +
      `${setting('synchronous_commit')}, shared_buffers=${setting('shared_buffers')}), ` +
      `@temporalio/worker ${await packageVersion('@temporalio/worker')}, @prisma/client ${await packageVersion('@prisma/client')}`;

    const direct = measured.find((m) => m.path === 'direct');
    const directRate = direct ? (direct.rows * 1000) / direct.span.wallMs : Number.NaN;
    const out: string[] = [];
    out.push('Import benchmark');
    out.push(machineLine);
    out.push(versionsLine);
    out.push(
      `staged: ${count(rowCount)} rows (expected: ${count(expected.recorded)} recorded, ${count(expected.duplicates)} ` +
        `duplicates, ${count(expected.invalid)} invalid), ${merchantCount} merchants × ${accountsPerMerchant} accounts; ` +
        `staging took ${stagingSeconds.toFixed(1)} s for both databases at once (not measured below)`,
    );
    out.push(
      `batches of ${count(batchSize)} rows, ${parallelBatches} at once on both paths; workflow continues as new ` +
        `every ${batchesPerRun} batches; ` +
        `worker DATABASE_POOL_SIZE=${config.databasePoolSize}`,
    );
    out.push('');
    out.push(header(resultColumns));
    for (const m of measured) {
      const rate = (m.rows * 1000) / m.span.wallMs;
      out.push(
        formatRow(resultColumns, [
          m.path,
          count(m.rows),
          count(m.batches),
          (m.span.wallMs / 1000).toFixed(1),
          count(rate),
          Number.isFinite(directRate) ? `${(rate / directRate).toFixed(2)}x` : '-',
          Number.isFinite(m.sqlMs) ? (m.sqlMs / 1000).toFixed(1) : '-',
          Number.isFinite(m.sqlMs) ? `${Math.round((m.sqlMs / m.span.wallMs) * 100)}%` : '-',
        ]),
      );
    }
    out.push('');
    out.push(
      'CPU by process tree (/proc) over each path: cores in use (2 = both vCPUs busy), then µs per staged row; ' +
        'other = machine minus the processes listed',
    );
    out.push(header(cpuColumns));
    for (const m of measured) {
      const perRow = (group: Group): string => micros((m.span.ms[group] * 1000) / Math.max(1, m.rows));
      const core = (group: Group): string => cores(m.span.ms[group] / m.span.wallMs);
      out.push(
        formatRow(cpuColumns, [
          m.path,
          core('postgres'),
          core('worker'),
          core('temporal'),
          core('bench'),
          cores(m.span.machineCores),
          cores(m.span.otherCores),
          perRow('postgres'),
          perRow('worker'),
          perRow('temporal'),
          perRow('bench'),
        ]),
      );
    }
    out.push('');
    out.push(`Checks: ${checked.join('; ')}`);
    for (const failure of failures) out.push(`! ${failure}`);
    const workflowRun = measured.find((m) => m.path === 'workflow');
    if (workflowRun && direct) {
      const seconds = workflowRun.span.wallMs / 1000;
      const ratio = (workflowRun.rows * 1000) / workflowRun.span.wallMs / directRate;
      out.push(
        `Goal (1,000,000 rows in under 120 s through the workflow, at ≥ 0.5x direct): ` +
          `${count(workflowRun.rows)} rows in ${seconds.toFixed(1)} s` +
          (rowCount === 1_000_000 ? ` → ${seconds < 120 ? 'met' : `missed by ${(seconds - 120).toFixed(1)} s`}` : '') +
          `; ratio ${ratio.toFixed(2)}x → ${ratio >= 0.5 ? 'met' : 'missed'}`,
      );
    }
    process.stdout.write(`${out.join('\n')}\n`);

    if (failures.length > 0) {
      keepRunDir = true;
      process.exitCode = 1;
    }
    await writeBenchResult({
      bench: 'import',
      checksPassed: failures.length === 0,
      figures:
        workflowRun && direct
          ? [
              {
                name: `staged payments imported through the workflow (${count(workflowRun.rows)} rows in ${(workflowRun.span.wallMs / 1000).toFixed(1)} s)`,
                value: (workflowRun.rows * 1000) / workflowRun.span.wallMs,
                unit: 'rows/s',
                baseline: { name: 'the same set-based SQL run directly, without Temporal', value: directRate },
                row: `workflow, batches of ${count(batchSize)}, ${parallelBatches} at once`,
              },
            ]
          : [],
    });
    if (writeDocs) {
      const title = `${label}, ${new Date().toISOString().slice(0, 10)}`;
      const block = runBlock({ runStart, runEnd }, { label, title, command, out });
      await updateDocsSection('import', label, block, docsSection);
      log(`wrote the results into docs/benchmarks.md (${title})`);
    }
  } catch (error) {
    keepRunDir = true;
    throw error;
  } finally {
    log('cleaning up');
    await cleanup();
    log('done');
    stopListening();
  }
}

await main();
