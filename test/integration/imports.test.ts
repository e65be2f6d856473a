import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { presentRecordedPayment, recordCreatedEvent } from '../../src/records/public-record.ts';
import { stripeSignatureHeader } from '../../src/providers/webhook-signatures.ts';
import { ensureImportSchedule, importInput } from '../../src/temporal/import-schedule.ts';
import type { ImportProgress } from '../../src/domain/import-progress.ts';
import { requireKeyring, type Config } from '../../src/config.ts';
import { cipherFor } from '../../src/crypto/column-cipher.ts';
import { openEventData } from '../../src/events/event-secrets.ts';
import { openRecordSecrets } from '../../src/records/record-secrets.ts';

// The staging import and the recording webhook against the real stack: 20,000+ staged rows with
// every kind of duplicate and invalid row, a worker killed mid-import, the same references
// arriving by import and webhook at once, partitions made ahead by maintenance, the import
// schedule, and the operating figures. Suites share one database: every import here is scoped
// to this suite's merchants and runs under its own workflow id. This is the only suite that
// stages, imports or records payments, and its tests run one after another, so the global
// figures of GET /v1/admin/stats and /ready move by exactly what one test does.

const dayMs = 24 * 60 * 60 * 1000;
const maxAmountMinor = 1_000_000n;
const partnerSecret = 'whsec_partner_test';

interface StagedRow {
  merchantId: string;
  reference: string;
  accountReference: string;
  amount: bigint;
  currency: string;
  paidAt: Date | null;
}

interface Expected {
  recorded: number;
  duplicates: number;
  invalid: Record<string, number>;
  /** Amount credited per account external reference. */
  credited: Map<string, bigint>;
}

let stack: Stack;
let merchantA: { id: string; apiKey: string };
let merchantB: { id: string; apiKey: string };
/** external reference → account id and currency, per merchant. */
const accounts = new Map<string, { id: string; currency: string; merchantId: string }>();

async function openAccount(merchant: { id: string; apiKey: string }, externalReference: string, currency: string) {
  const response = await stack.app.inject({
    method: 'POST',
    url: '/v1/accounts',
    headers: bearer(merchant.apiKey),
    payload: { type: 'customer', currency, external_reference: externalReference },
  });
  expect(response.statusCode).toBe(201);
  const account = response.json<{ id: string; external_reference: string }>();
  expect(account.external_reference).toBe(externalReference);
  accounts.set(`${merchant.id}/${externalReference}`, { id: account.id, currency, merchantId: merchant.id });
}

async function stage(rows: StagedRow[]): Promise<void> {
  await stack.prisma.$executeRaw`
    INSERT INTO payment_staging (merchant_id, reference_number, account_reference, amount_minor, currency, paid_at, channel)
    SELECT * FROM unnest(${rows.map((row) => row.merchantId)}::text[], ${rows.map((row) => row.reference)}::text[],
      ${rows.map((row) => row.accountReference)}::text[], ${rows.map((row) => row.amount)}::bigint[],
      ${rows.map((row) => row.currency)}::text[], ${rows.map((row) => row.paidAt)}::timestamptz[],
      ${rows.map(() => 'bank_transfer')}::text[])`;
}

function postRecord(merchant: { id: string; apiKey: string }, payload: object, key = randomUUID()) {
  return stack.app.inject({
    method: 'POST',
    url: '/v1/payment_records',
    headers: { ...bearer(merchant.apiKey), 'idempotency-key': key },
    payload,
  });
}

function postPartnerRecord(channel: string, payload: object, secret = partnerSecret) {
  const body = JSON.stringify(payload);
  return stack.app.inject({
    method: 'POST',
    url: `/v1/webhooks/records/${channel}`,
    headers: {
      'content-type': 'application/json',
      signature: stripeSignatureHeader(secret, body, Math.floor(Date.now() / 1000)),
    },
    payload: body,
  });
}

/** What the import must make of `rows` (in staging id order), given references already claimed. */
function expectedOutcomes(rows: StagedRow[], claimed: Set<string>): Expected {
  const expected: Expected = { recorded: 0, duplicates: 0, invalid: {}, credited: new Map() };
  const oldest = Date.now() - 365 * dayMs;
  for (const row of rows) {
    const account = accounts.get(`${row.merchantId}/${row.accountReference}`);
    const reason = ![merchantA.id, merchantB.id].includes(row.merchantId)
      ? 'unknown_merchant'
      : row.reference.trim() === ''
        ? 'missing_reference'
        : !account
          ? 'unknown_account'
          : account.currency !== row.currency
            ? 'currency_mismatch'
            : row.amount <= 0n
              ? 'non_positive_amount'
              : row.amount > maxAmountMinor
                ? 'amount_over_limit'
                : !row.paidAt || row.paidAt.getTime() > Date.now() || row.paidAt.getTime() < oldest
                  ? 'bad_paid_at'
                  : undefined;
    if (reason) {
      expected.invalid[reason] = (expected.invalid[reason] ?? 0) + 1;
      continue;
    }
    const key = `${row.merchantId}/${row.reference}`;
    if (claimed.has(key)) {
      expected.duplicates += 1;
      continue;
    }
    claimed.add(key);
    expected.recorded += 1;
    const target = `${row.merchantId}/${row.accountReference}`;
    expected.credited.set(target, (expected.credited.get(target) ?? 0n) + row.amount);
  }
  return expected;
}

async function outcomeCounts(merchantIds: string[], fromId: bigint): Promise<Record<string, number>> {
  const rows = await stack.prisma.$queryRaw<{ outcome: string | null; count: bigint }[]>`
    SELECT outcome, count(*) AS count FROM payment_staging
     WHERE id > ${fromId} AND (merchant_id = ANY (${merchantIds}::text[]) OR merchant_id = 'mer_unknown_import_test')
     GROUP BY outcome`;
  return Object.fromEntries(rows.map((row) => [row.outcome ?? 'unprocessed', Number(row.count)]));
}

async function lastStagingId(): Promise<bigint> {
  const rows = await stack.prisma.$queryRaw<{ id: bigint | null }[]>`SELECT max(id) AS id FROM payment_staging`;
  return rows[0]?.id ?? 0n;
}

/** Until every reference the webhook claimed for the merchant has its recorded payment. */
async function waitForWebhookRecords(merchantId: string): Promise<void> {
  await expect
    .poll(() => stack.prisma.paymentReference.count({ where: { merchantId, recordedAt: null } }), {
      timeout: 30_000,
      interval: 50,
    })
    .toBe(0);
}

/** payment_record.created events of these merchants, per record source, and how many records they name. */
async function recordEvents(merchantIds: string[]): Promise<{ staging: number; webhook: number; records: number }> {
  const rows = await stack.prisma.$queryRaw<{ source: string; count: bigint; records: bigint }[]>`
    SELECT data->>'source' AS source, count(*) AS count, count(DISTINCT data->>'id') AS records FROM events
     WHERE type = 'payment_record.created' AND merchant_id = ANY (${merchantIds}::text[])
     GROUP BY 1`;
  const count = (source: string) => Number(rows.find((row) => row.source === source)?.count ?? 0);
  return {
    staging: count('staging'),
    webhook: count('webhook'),
    records: rows.reduce((sum, row) => sum + Number(row.records), 0),
  };
}

/**
 * The import's events are built by PostgreSQL (payment_record_json, then encrypted there): each
 * must read as exactly the event recordCreatedEvent makes of the stored record, type, source key
 * and public shape alike.
 */
async function expectImportEventsAsApplicationWould(merchantIds: string[]): Promise<void> {
  const cipher = cipherFor(requireKeyring(stack.config));
  const stored = await stack.prisma.recordedPayment.findMany({
    where: { merchantId: { in: merchantIds }, source: 'staging' },
    orderBy: { id: 'asc' },
  });
  const records = stored.map((record) => openRecordSecrets(cipher, record));
  const events = await stack.prisma.event.findMany({
    where: { type: 'payment_record.created', resourceId: { in: records.map((record) => record.id) } },
    orderBy: { resourceId: 'asc' },
  });
  expect(
    events.map((event) => ({
      merchantId: event.merchantId,
      type: event.type,
      resourceId: event.resourceId,
      data: openEventData(cipher, event.data),
      sourceKey: event.sourceKey,
    })),
  ).toEqual(records.map((record) => recordCreatedEvent(record.merchantId, record)));
}

async function balanceOf(merchantId: string, externalReference: string): Promise<bigint> {
  const account = accounts.get(`${merchantId}/${externalReference}`);
  if (!account) throw new Error(`no account ${externalReference}`);
  return (await stack.prisma.account.findUniqueOrThrow({ where: { id: account.id } })).balance;
}

beforeAll(async () => {
  stack = await startStack('imports', {
    importWorkflowId: `import-test-${randomUUID()}`,
    importBatchSize: 1_000,
    importBatchesPerRun: 4,
    // Two at once: the worker killed mid-import must leave two batches in flight exact too.
    importParallelBatches: 2,
    recordLimits: { maxAmountMinor, maxAgeDays: 365, referenceRetentionDays: 90 },
    webhookSweepAfterMs: 1_000,
  });
  merchantA = await stack.merchant();
  merchantB = await stack.merchant();
  stack.config.importMerchantIds = [merchantA.id, merchantB.id, 'mer_unknown_import_test'];
  stack.config.recordChannels = { agents: { secrets: [partnerSecret], merchants: [merchantA.id] } };
  for (let index = 0; index < 4; index++) await openAccount(merchantA, `LOAN-A${index}`, 'USD');
  await openAccount(merchantA, 'WALLET-A-EUR', 'EUR');
  await openAccount(merchantB, 'LOAN-B0', 'USD');
}, 60_000);

afterAll(async () => stack?.close());

describe('staging import', () => {
  it('records 20,000+ staged rows exactly once, through a worker killed mid-import', async () => {
    const now = Date.now();
    // References the webhook records first: the import must find them taken.
    const webhookRefs = Array.from({ length: 40 }, (_, index) => `A-R${index * 50}`);
    const claimed = new Set<string>();
    for (const [index, reference] of webhookRefs.entries()) {
      const response =
        index % 2 === 0
          ? await postRecord(merchantA, {
              reference_number: reference,
              account_reference: 'LOAN-A0',
              amount: 1_000,
              currency: 'USD',
              paid_at: new Date(now - dayMs).toISOString(),
            })
          : await postPartnerRecord('agents', {
              merchant_id: merchantA.id,
              reference_number: reference,
              account_reference: 'LOAN-A0',
              amount: 1_000,
              currency: 'USD',
              paid_at: new Date(now - dayMs).toISOString(),
            });
      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject({ status: 'created', id: expect.stringMatching(/^rec_/) });
      claimed.add(`${merchantA.id}/${reference}`);
    }

    const rows: StagedRow[] = [];
    for (let index = 0; index < 20_000; index++) {
      const merchant = index % 10 === 0 ? merchantB : merchantA;
      const row = {
        merchantId: merchant.id,
        reference: `${merchant === merchantA ? 'A' : 'B'}-R${index}`,
        accountReference: merchant === merchantA ? `LOAN-A${index % 4}` : 'LOAN-B0',
        amount: BigInt(100 + (index % 50)),
        currency: 'USD',
        paidAt: new Date(now - (index % 200) * dayMs - 60_000),
      };
      rows.push(row);
      // A duplicate within the same batch, right behind its original.
      if (index % 97 === 0) rows.push({ ...row, amount: 7n });
    }
    // Duplicates across batches: the first 600 references again, at the end.
    rows.push(...rows.slice(0, 600).map((row) => ({ ...row, amount: 3n })));
    const paidAt = new Date(now - dayMs);
    const base = { merchantId: merchantA.id, accountReference: 'LOAN-A1', amount: 500n, currency: 'USD', paidAt };
    rows.push(
      { ...base, reference: 'BAD-merchant', merchantId: 'mer_unknown_import_test' },
      { ...base, reference: 'BAD-account', accountReference: 'LOAN-NOPE' },
      { ...base, reference: 'BAD-currency', currency: 'EUR' },
      { ...base, reference: 'BAD-currency-wallet', accountReference: 'WALLET-A-EUR' },
      { ...base, reference: 'BAD-zero', amount: 0n },
      { ...base, reference: 'BAD-negative', amount: -5n },
      { ...base, reference: 'BAD-over', amount: maxAmountMinor + 1n },
      { ...base, reference: 'BAD-no-date', paidAt: null },
      { ...base, reference: 'BAD-future', paidAt: new Date(now + dayMs) },
      { ...base, reference: 'BAD-old', paidAt: new Date(now - 400 * dayMs) },
      { ...base, reference: '   ' },
    );
    await waitForWebhookRecords(merchantA.id);
    const fromId = await lastStagingId();
    await stage(rows);
    const expected = expectedOutcomes(rows, claimed);
    expect(Object.keys(expected.invalid).sort()).toEqual([
      'amount_over_limit',
      'bad_paid_at',
      'currency_mismatch',
      'missing_reference',
      'non_positive_amount',
      'unknown_account',
      'unknown_merchant',
    ]);
    const balancesBefore = new Map(
      await Promise.all(
        ['LOAN-A0', 'LOAN-A1', 'LOAN-A2', 'LOAN-A3'].map(
          async (reference) => [reference, await balanceOf(merchantA.id, reference)] as const,
        ),
      ),
    );

    // The import runs on a task queue of its own, served by a worker process the test kills.
    const taskQueue = `${stack.taskQueue}-killed`;
    const workerEnv = {
      temporalAddress: inject('temporalAddress'),
      databaseUrl: inject('databaseUrl'),
      taskQueue,
      providerSimUrl: stack.simUrl,
      workflowBundlePath: inject('workflowBundlePath'),
      encryptionKeys: inject('encryptionKeys'),
      providerTimeoutMs: 1_000,
    };
    let worker: WorkerProcess = await spawnWorkerProcess(workerEnv);
    let progress: ImportProgress | undefined;
    const handle = await stack.temporal.workflow.start('importWorkflow', {
      workflowId: `${stack.config.importWorkflowId}-killed`,
      taskQueue,
      args: [importInput(stack.config)],
    });
    try {
      // Killed once three batches have committed, mid-way through the fourth or so.
      await expect
        .poll(async () => (await handle.query<ImportProgress>('progress')).batches, { timeout: 30_000, interval: 50 })
        .toBeGreaterThanOrEqual(3);
      await worker.kill();
      const midway = await outcomeCounts([merchantA.id, merchantB.id], fromId);
      expect(midway.unprocessed).toBeGreaterThan(0);
      worker = await spawnWorkerProcess(workerEnv);
      progress = (await handle.result()) as ImportProgress;
      expect(progress).toMatchObject({
        status: 'succeeded',
        rows: rows.length,
        recorded: expected.recorded,
        duplicates: expected.duplicates,
        invalid: Object.values(expected.invalid).reduce((sum, count) => sum + count, 0),
      });
    } finally {
      await worker.kill();
    }

    const counts = await outcomeCounts([merchantA.id, merchantB.id], fromId);
    expect(counts).toEqual({
      recorded: expected.recorded,
      duplicate: expected.duplicates,
      ...Object.fromEntries(Object.entries(expected.invalid).map(([reason, count]) => [`invalid: ${reason}`, count])),
    });
    // The run row holds the same exact totals, whatever the crash did.
    const runId = progress?.runId;
    const stored = await stack.app.inject({
      method: 'GET',
      url: `/v1/imports/${runId}`,
      headers: bearer(stack.adminApiKey),
    });
    expect(stored.statusCode).toBe(200);
    expect(stored.json()).toMatchObject({
      id: runId,
      object: 'import_run',
      status: 'succeeded',
      rows: rows.length,
      recorded: expected.recorded,
      duplicates: expected.duplicates,
    });
    // Exact balances: each account got exactly its first-seen rows' amounts.
    for (const [reference, before] of balancesBefore) {
      expect(await balanceOf(merchantA.id, reference)).toBe(
        before + (expected.credited.get(`${merchantA.id}/${reference}`) ?? 0n),
      );
    }
    expect(await balanceOf(merchantB.id, 'LOAN-B0')).toBe(expected.credited.get(`${merchantB.id}/LOAN-B0`));
    expect(await balanceOf(merchantA.id, 'WALLET-A-EUR')).toBe(0n);
    // One recorded payment and one event per recorded reference.
    const recordedCount = await stack.prisma.recordedPayment.count({
      where: { merchantId: { in: [merchantA.id, merchantB.id] }, source: 'staging' },
    });
    expect(recordedCount).toBe(expected.recorded);
    // Exactly one event per recorded payment, by source: the import's, and the 40 the webhook recorded first.
    expect(await recordEvents([merchantA.id, merchantB.id])).toEqual({
      staging: expected.recorded,
      webhook: webhookRefs.length,
      records: expected.recorded + webhookRefs.length,
    });
    await expectImportEventsAsApplicationWould([merchantA.id, merchantB.id]);
    expect(await reconcile(stack.prisma)).toEqual([]);
  }, 90_000);

  it('records a reference arriving by import and by webhook at once exactly once; POST /v1/imports joins the running import', async () => {
    const references = Array.from({ length: 150 }, (_, index) => `RACE-${index}`);
    const paidAt = new Date(Date.now() - dayMs);
    const before = await balanceOf(merchantA.id, 'LOAN-A2');
    const eventsBefore = await recordEvents([merchantA.id]);
    await stage(
      references.map((reference) => ({
        merchantId: merchantA.id,
        reference,
        accountReference: 'LOAN-A2',
        amount: 10n,
        currency: 'USD',
        paidAt,
      })),
    );
    const start = () => stack.app.inject({ method: 'POST', url: '/v1/imports', headers: bearer(stack.adminApiKey) });
    const [first, second, ...answers] = await Promise.all([
      start(),
      start(),
      ...references.map((reference) =>
        postRecord(merchantA, {
          reference_number: reference,
          account_reference: 'LOAN-A2',
          amount: 10,
          currency: 'USD',
          paid_at: paidAt.toISOString(),
        }),
      ),
    ]);
    expect(first?.statusCode).toBe(202);
    expect(second?.statusCode).toBe(202);
    const runId = first?.json<{ id: string }>().id;
    // One import at a time: the second request joined the first one's run.
    expect(second?.json<{ id: string }>().id).toBe(runId);
    expect(answers.every((answer) => answer.statusCode === 201 || answer.statusCode === 200)).toBe(true);
    await stack.temporal.workflow.getHandle(stack.config.importWorkflowId).result();
    await waitForWebhookRecords(merchantA.id);

    const recorded = await stack.prisma.recordedPayment.groupBy({
      by: ['referenceNumber'],
      where: { merchantId: merchantA.id, referenceNumber: { in: references } },
      _count: true,
    });
    expect(recorded).toHaveLength(references.length);
    expect(recorded.every((group) => group._count === 1)).toBe(true);
    // Whichever came second was told duplicate and pointed at the one record.
    const staged = await stack.prisma.paymentStaging.findMany({
      where: { merchantId: merchantA.id, referenceNumber: { in: references } },
    });
    const created = answers.filter((answer) => answer.json<{ status: string }>().status === 'created').length;
    expect(staged.filter((row) => row.outcome === 'recorded').length + created).toBe(references.length);
    expect(await balanceOf(merchantA.id, 'LOAN-A2')).toBe(before + 10n * BigInt(references.length));
    // One event per reference, from whichever way recorded it.
    const recordedByImport = staged.filter((row) => row.outcome === 'recorded').length;
    expect(await recordEvents([merchantA.id])).toEqual({
      staging: eventsBefore.staging + recordedByImport,
      webhook: eventsBefore.webhook + created,
      records: eventsBefore.records + references.length,
    });

    const run = await stack.app.inject({
      method: 'GET',
      url: `/v1/imports/${runId}`,
      headers: bearer(stack.adminApiKey),
    });
    expect(run.json()).toMatchObject({ status: 'succeeded', rows: references.length });
    const list = await stack.app.inject({
      method: 'GET',
      url: '/v1/imports?limit=100',
      headers: bearer(stack.adminApiKey),
    });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ data: { id: string }[] }>().data.map((item) => item.id)).toContain(runId);
    const merchantKey = await stack.app.inject({
      method: 'POST',
      url: '/v1/imports',
      headers: bearer(merchantA.apiKey),
    });
    expect(merchantKey.statusCode).toBe(403);
  }, 60_000);
});

describe('public shape of a recorded payment built in SQL', () => {
  // payment_record_json (used by the import for its events) against presentRecordedPayment,
  // the one definition, on the same row as Prisma reads it: every kind of metadata, nulls,
  // microseconds, another time zone, the largest JSON-safe amount, both sources.
  it.each([
    ['no metadata, nulls', null, null, null, '2026-11-30 23:59:59.999999+00', '1', 'staging'],
    [
      'an object',
      '{"branch": "north", "nested": {"a": [1, "x", null]}}',
      'C-7',
      'agents',
      '2026-06-01 12:00:00.0005+02',
      '9007199254740991',
      'webhook',
    ],
    ['an array', '[1, 2]', 'C-8', 'bank_transfer', '2026-01-01 00:00:00+00', '250', 'staging'],
    ['a string', '"just text"', null, 'x', '2025-12-31 23:59:59.123456-05', '42', 'staging'],
    ['a number', '12.5', null, null, '2026-03-29 01:30:00.1+01', '99', 'webhook'],
    ['JSON null', 'null', null, null, '2026-10-25 02:30:00.000001+00', '7', 'staging'],
  ])('equals presentRecordedPayment with %s', async (_name, metadata, customer, channel, paidAt, amount, source) => {
    const [row] = await stack.prisma.$queryRaw<
      {
        id: string;
        reference_number: string;
        account_id: string;
        account_reference: string;
        customer_reference: string | null;
        amount: bigint;
        currency: string;
        paid_at: Date;
        channel: string | null;
        metadata: unknown;
        source: string;
        transaction_id: string;
        created_at: Date;
        json: unknown;
      }[]
    >`
      SELECT r.*, payment_record_json(r.id, r.reference_number, r.account_id, r.account_reference, r.customer_reference,
               r.amount, r.currency, r.paid_at, r.channel, r.metadata, r.source, r.transaction_id, r.created_at) AS json
        FROM (SELECT 'rec_sql'::text AS id, 'REF "1" ü'::text AS reference_number, 'acct_sql'::text AS account_id,
                     'LOAN-Ä'::text AS account_reference, ${customer}::text AS customer_reference,
                     ${amount}::bigint AS amount, 'USD'::char(3) AS currency, ${paidAt}::timestamptz AS paid_at,
                     ${channel}::text AS channel, ${metadata}::jsonb AS metadata, ${source}::text AS source,
                     'txn_sql'::text AS transaction_id, clock_timestamp() AS created_at) r`;
    if (!row) throw new Error('no row');
    const { json, ...columns } = row;
    expect(json).toEqual(
      presentRecordedPayment({
        id: columns.id,
        referenceNumber: columns.reference_number,
        accountId: columns.account_id,
        accountReference: columns.account_reference,
        customerReference: columns.customer_reference,
        amount: columns.amount,
        currency: columns.currency,
        paidAt: columns.paid_at,
        channel: columns.channel,
        metadata: columns.metadata,
        source: columns.source,
        transactionId: columns.transaction_id,
        createdAt: columns.created_at,
      }),
    );
  });

  it('refuses, as presentRecordedPayment does, an amount past 2^53 - 1 and a source that is not public', async () => {
    await expect(
      stack.prisma.$queryRaw`SELECT payment_record_json('rec_x', 'R', 'acct_x', 'A', NULL, 9007199254740992, 'USD',
        now(), NULL, NULL, 'staging', 'txn_x', now())`,
    ).rejects.toThrow(/exceeds the JSON-safe range/);
    await expect(
      stack.prisma.$queryRaw`SELECT payment_record_json('rec_x', 'R', 'acct_x', 'A', NULL, 1, 'USD',
        now(), NULL, NULL, 'internal', 'txn_x', now())`,
    ).rejects.toThrow(/not a public one/);
  });
});

describe('recorded payment integrity', () => {
  it("refuses a recorded payment whose merchant is not its account's owner", async () => {
    const account = accounts.get(`${merchantA.id}/LOAN-A0`);
    if (!account) throw new Error('no account LOAN-A0');
    await expect(
      stack.prisma.$executeRaw`
        INSERT INTO recorded_payments (id, merchant_id, account_id, reference_number, account_reference, amount, currency,
                                       paid_at, source, transaction_id)
        VALUES ('rec_foreign_owner', ${merchantB.id}, ${account.id}, 'R-FOREIGN', 'LOAN-A0', 100, 'USD', now(), 'webhook',
                'txn_none')`,
    ).rejects.toThrow(
      /Code: `23503`. Message: `recorded payment refers to account \S+ in USD of merchant \S+, which does not exist`/,
    );
    expect(await stack.prisma.recordedPayment.count({ where: { id: 'rec_foreign_owner' } })).toBe(0);
  });
});

describe('recording webhook', () => {
  const valid = () => ({
    reference_number: `WH-${randomUUID()}`,
    account_reference: 'LOAN-A3',
    amount: 2_500,
    currency: 'USD',
    paid_at: new Date(Date.now() - 60_000).toISOString(),
    channel: 'bank_transfer',
    metadata: { branch: 'north' },
  });

  it('answers created then duplicate with one id, and GET and the event show one public record', async () => {
    const payload = valid();
    const created = await postRecord(merchantA, payload);
    expect(created.statusCode).toBe(201);
    const { id } = created.json<{ id: string }>();
    const again = await postRecord(merchantA, { ...payload, amount: 1 });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ status: 'duplicate', id });
    await waitForWebhookRecords(merchantA.id);
    const read = await stack.app.inject({
      method: 'GET',
      url: `/v1/payment_records/${id}`,
      headers: bearer(merchantA.apiKey),
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({
      id,
      object: 'payment_record',
      reference_number: payload.reference_number,
      amount: 2_500,
      source: 'webhook',
      metadata: { branch: 'north' },
    });
    const event = await stack.prisma.event.findFirstOrThrow({
      where: { resourceId: id, type: 'payment_record.created' },
    });
    expect(openEventData(cipherFor(requireKeyring(stack.config)), event.data)).toEqual(read.json());
    // Another merchant sees nothing.
    const other = await stack.app.inject({
      method: 'GET',
      url: `/v1/payment_records/${id}`,
      headers: bearer(merchantB.apiKey),
    });
    expect(other.statusCode).toBe(404);
  });

  it.each([
    ['an unknown account', { account_reference: 'LOAN-NOPE' }, 404, 'resource_missing', 'account_reference'],
    ['another currency', { currency: 'EUR' }, 400, 'currency_mismatch', 'currency'],
    ['an amount over the limit', { amount: Number(maxAmountMinor) + 1 }, 400, 'amount_too_large', 'amount'],
    ['a zero amount', { amount: 0 }, 400, 'parameter_invalid', 'amount'],
    ['a future paid_at', { paid_at: new Date(Date.now() + dayMs).toISOString() }, 400, 'parameter_invalid', 'paid_at'],
    ['a paid_at that is no date', { paid_at: 'yesterday' }, 400, 'parameter_invalid', 'paid_at'],
    ['an unknown field', { colour: 'red' }, 400, 'parameter_unknown', 'colour'],
  ])('refuses %s with a 4xx', async (_name, change, status, code, param) => {
    const response = await postRecord(merchantA, { ...valid(), ...change });
    expect(response.statusCode).toBe(status);
    expect(response.json()).toMatchObject({ error: { code, param } });
  });

  it('checks the partner signature, channel and merchant', async () => {
    const partner = { merchant_id: merchantA.id, ...valid(), channel: undefined };
    expect((await postPartnerRecord('agents', partner, 'whsec_wrong')).json()).toMatchObject({
      error: { code: 'webhook_signature_invalid' },
    });
    expect((await postPartnerRecord('nobody', partner)).statusCode).toBe(404);
    const otherMerchant = await postPartnerRecord('agents', { ...partner, merchant_id: merchantB.id });
    expect(otherMerchant.statusCode).toBe(404);
    expect(otherMerchant.json()).toMatchObject({ error: { code: 'resource_missing', param: 'merchant_id' } });
    const missing = await postPartnerRecord('agents', { ...partner, amount: undefined });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: { code: 'parameter_missing', param: 'amount' } });
    const accepted = await postPartnerRecord('agents', partner);
    expect(accepted.statusCode).toBe(201);
    await waitForWebhookRecords(merchantA.id);
    const record = await stack.prisma.recordedPayment.findFirstOrThrow({
      where: { id: accepted.json<{ id: string }>().id },
    });
    expect(record.channel).toBe('agents');
  });
});

describe('maintenance of recorded payments', () => {
  it('creates partitions ahead and forgets references past retention, never ledger entries', async () => {
    const ahead = new Date();
    ahead.setUTCMonth(ahead.getUTCMonth() + 8, 1);
    const name = `recorded_payments_${ahead.getUTCFullYear()}${String(ahead.getUTCMonth() + 1).padStart(2, '0')}`;
    const exists = async () =>
      (await stack.prisma.$queryRaw<{ found: string | null }[]>`SELECT to_regclass(${name})::text AS found`)[0]?.found;
    expect(await exists()).toBeNull();
    const expired = await stack.prisma.paymentReference.findFirstOrThrow({
      where: { merchantId: merchantB.id, recordedAt: { not: null } },
    });
    await stack.prisma.paymentReference.update({
      where: { merchantId_reference: { merchantId: expired.merchantId, reference: expired.reference } },
      data: { expiresAt: new Date(Date.now() - 1_000) },
    });
    const entries = await stack.prisma.ledgerEntry.count();
    const result = await stack.temporal.workflow.execute('maintenanceWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: `maintenance-records-${randomUUID()}`,
      args: [{ idempotencyKeyTtlMs: dayMs, maxHoldsExpiredPerRun: 10, recordPartitionsMonthsAhead: 8 }],
    });
    expect(result).toMatchObject({ ledgerDiscrepancies: 0 });
    expect((result as { recordPartitionsCreated: number }).recordPartitionsCreated).toBeGreaterThanOrEqual(1);
    expect((result as { expiredReferences: number }).expiredReferences).toBeGreaterThanOrEqual(1);
    expect(await exists()).toBe(name);
    expect(
      await stack.prisma.paymentReference.count({
        where: { merchantId: expired.merchantId, reference: expired.reference },
      }),
    ).toBe(0);
    expect(await stack.prisma.ledgerEntry.count()).toBeGreaterThanOrEqual(entries);
    expect(await stack.prisma.recordedPayment.count({ where: { id: expired.recordedPaymentId } })).toBe(1);
  });
});

interface StatsBody {
  day_started_at: string;
  staging_today: { rows: number; recorded: number; duplicates: number; invalid: number; duplicate_rate: number };
  staging_backlog: { pending: number; pending_capped: boolean; oldest_pending_age_ms: number };
  import_batches: {
    batches: number;
    average_batch_ms: number | null;
    average_batch_rows: number | null;
    rows_per_second: number | null;
  };
  last_import_run: { id: string; status: string; started_at: string; finished_at: string | null } | null;
  records_today: { staging: number; webhook: number };
  webhook_intake: { accepted_today: number; awaiting_record: number };
}

interface ReadyBody {
  status: string;
  staging_backlog: StatsBody['staging_backlog'] | null;
  last_import_run: StatsBody['last_import_run'];
}

async function adminStats(): Promise<StatsBody> {
  const response = await stack.app.inject({
    method: 'GET',
    url: '/v1/admin/stats',
    headers: bearer(stack.adminApiKey),
  });
  expect(response.statusCode).toBe(200);
  return response.json<StatsBody>();
}

async function readiness(): Promise<ReadyBody> {
  const response = await stack.app.inject({ method: 'GET', url: '/ready' });
  // A backlog never makes the API unready.
  expect(response.statusCode).toBe(200);
  return response.json<ReadyBody>();
}

describe('operating figures', () => {
  it('GET /v1/admin/stats and /ready count staged rows, the import and the webhook exactly', async () => {
    const before = await adminStats();
    const readyBefore = await readiness();
    expect(readyBefore.last_import_run).toEqual(before.last_import_run);

    // The webhook: two references accepted, one answered duplicate (which counts nowhere).
    const webhookRefs = [`OPS-WH-${randomUUID()}`, `OPS-WH-${randomUUID()}`];
    const paidAt = new Date(Date.now() - dayMs);
    const record = (reference: string) =>
      postRecord(merchantA, {
        reference_number: reference,
        account_reference: 'LOAN-A1',
        amount: 400,
        currency: 'USD',
        paid_at: paidAt.toISOString(),
      });
    for (const reference of webhookRefs) expect((await record(reference)).statusCode).toBe(201);
    expect((await record(webhookRefs[0] ?? '')).statusCode).toBe(200);
    await waitForWebhookRecords(merchantA.id);

    // Staged: 12 new references, one again in the same batch, one the webhook took, and 10,000
    // rows of an unknown merchant (invalid, and more than /ready counts).
    const base = { merchantId: merchantA.id, accountReference: 'LOAN-A1', amount: 100n, currency: 'USD', paidAt };
    const opsRefs = Array.from({ length: 12 }, (_, index) => `OPS-S-${index}`);
    const rows: StagedRow[] = [
      ...opsRefs.map((reference) => ({ ...base, reference })),
      { ...base, reference: 'OPS-S-0' },
      { ...base, reference: webhookRefs[1] ?? '' },
      ...Array.from({ length: 10_000 }, (_, index) => ({
        ...base,
        merchantId: 'mer_unknown_import_test',
        reference: `OPS-X-${index}`,
      })),
    ];
    await stage(rows);

    const staged = await adminStats();
    expect(staged.staging_backlog).toMatchObject({
      pending: before.staging_backlog.pending + rows.length,
      pending_capped: false,
    });
    expect(staged.staging_backlog.oldest_pending_age_ms).toBeGreaterThanOrEqual(0);
    // /ready counts no further than 10,000, and stays 200 (readiness() checks) with a backlog.
    expect((await readiness()).staging_backlog).toEqual({
      pending: 10_000,
      pending_capped: true,
      oldest_pending_age_ms: expect.any(Number),
    });

    const started = await stack.app.inject({ method: 'POST', url: '/v1/imports', headers: bearer(stack.adminApiKey) });
    expect(started.statusCode).toBe(202);
    const runId = started.json<{ id: string }>().id;
    await stack.temporal.workflow.getHandle(stack.config.importWorkflowId).result();
    const run = (
      await stack.app.inject({ method: 'GET', url: `/v1/imports/${runId}`, headers: bearer(stack.adminApiKey) })
    ).json<{ started_at: string; finished_at: string; batches: number }>();
    expect(run.batches).toBe(11);

    const after = await adminStats();
    // The test did not straddle midnight UTC (the *_today figures would start again).
    expect(after.day_started_at).toBe(before.day_started_at);
    expect(after.staging_today).toMatchObject({
      rows: before.staging_today.rows + rows.length,
      recorded: before.staging_today.recorded + opsRefs.length,
      duplicates: before.staging_today.duplicates + 2,
      invalid: before.staging_today.invalid + 10_000,
    });
    expect(after.staging_today.duplicate_rate).toBe(after.staging_today.duplicates / after.staging_today.rows);
    expect(after.records_today).toEqual({
      staging: before.records_today.staging + opsRefs.length,
      webhook: before.records_today.webhook + webhookRefs.length,
    });
    expect(after.webhook_intake).toEqual({
      accepted_today: before.webhook_intake.accepted_today + webhookRefs.length,
      awaiting_record: 0,
    });
    expect(after.staging_backlog).toEqual({
      pending: before.staging_backlog.pending,
      pending_capped: false,
      oldest_pending_age_ms: before.staging_backlog.pending === 0 ? 0 : expect.any(Number),
    });
    const lastRun = { id: runId, status: 'succeeded', started_at: run.started_at, finished_at: run.finished_at };
    expect(after.last_import_run).toEqual(lastRun);
    expect((await readiness()).last_import_run).toEqual(lastRun);

    // The batch time is over the 100 newest batches, this run's 11 first among them.
    const recent = await stack.prisma.importRun.findMany({
      where: { kind: 'batch', status: 'succeeded' },
      orderBy: { startedAt: 'desc' },
      take: 100,
    });
    expect(recent.slice(0, 11).every((batch) => batch.runId === runId)).toBe(true);
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    const totalMs = sum(recent.map((batch) => batch.durationMs ?? 0));
    const totalRows = sum(recent.map((batch) => batch.rows));
    expect(after.import_batches).toEqual({
      batches: recent.length,
      average_batch_ms: Math.round(totalMs / recent.length),
      average_batch_rows: Math.round(totalRows / recent.length),
      rows_per_second: totalMs === 0 ? null : Math.round((totalRows * 1_000) / totalMs),
    });
  }, 60_000);
});

/** The schedule's n-th action (1-based, manual triggers included), once it has been taken. */
async function scheduleAction(scheduleId: string, n: number) {
  const schedule = stack.temporal.schedule.getHandle(scheduleId);
  await expect
    .poll(async () => (await schedule.describe()).info.recentActions.length, { timeout: 10_000, interval: 50 })
    .toBeGreaterThanOrEqual(n);
  const action = (await schedule.describe()).info.recentActions[n - 1];
  if (!action) throw new Error(`schedule ${scheduleId} has no action ${n}`);
  return action;
}

/** What the importTriggerWorkflow a schedule action started returned. */
async function triggerResult(action: Awaited<ReturnType<typeof scheduleAction>>): Promise<unknown> {
  const { workflowId, firstExecutionRunId } = action.action.workflow;
  return stack.temporal.workflow.getHandle(workflowId, undefined, { firstExecutionRunId }).result();
}

/** Row locks on the staged rows after `afterId`, as an import batch takes FOR UPDATE: every stripe's first batch waits until release(). */
async function holdStagedRows(afterId: bigint): Promise<{ release(): Promise<void> }> {
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked = (): void => undefined;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const transaction = stack.prisma.$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT id FROM payment_staging WHERE id > ${afterId} FOR UPDATE`;
      locked();
      await released;
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
  await Promise.race([isLocked, transaction]);
  return {
    async release() {
      release();
      await transaction;
    },
  };
}

describe('import schedule', () => {
  it('runs the import when triggered, joins the running one on a second trigger, and honours pause', async () => {
    const config: Config = {
      ...stack.config,
      importScheduleId: `import-test-${randomUUID()}`,
      importWorkflowId: `${stack.config.importWorkflowId}-scheduled`,
      // Its times are multiples of 100 days since the epoch: none falls while the triggers are tested.
      importIntervalMs: 100 * dayMs,
    };
    const schedule = stack.temporal.schedule.getHandle(config.importScheduleId);
    const importHandle = stack.temporal.workflow.getHandle(config.importWorkflowId);
    await ensureImportSchedule(stack.temporal, config);
    try {
      const described = await schedule.describe();
      expect(described.state.paused).toBe(false);
      expect(described.action).toMatchObject({
        type: 'startWorkflow',
        workflowType: 'importTriggerWorkflow',
        taskQueue: stack.taskQueue,
        args: [{ importWorkflowId: config.importWorkflowId, batchSize: 1_000, merchantIds: config.importMerchantIds }],
      });

      const paidAt = new Date(Date.now() - dayMs);
      const scheduled = (prefix: string, count: number): StagedRow[] =>
        Array.from({ length: count }, (_, index) => ({
          merchantId: merchantB.id,
          reference: `${prefix}-${index}`,
          accountReference: 'LOAN-B0',
          amount: 20n,
          currency: 'USD',
          paidAt,
        }));
      const balanceBefore = await balanceOf(merchantB.id, 'LOAN-B0');
      const fromId = await lastStagingId();
      await stage(scheduled('SCHED', 30));

      // The import's first batches wait on these locks, so the import is surely running at the second trigger.
      const held = await holdStagedRows(fromId);
      let importRunId: string;
      try {
        await schedule.trigger();
        const first = await scheduleAction(config.importScheduleId, 1);
        expect(await triggerResult(first)).toEqual({ started: true });
        const running = await importHandle.describe();
        expect(running.status.name).toBe('RUNNING');
        importRunId = running.runId;
        // A schedule's workflow ids end in the second they start at: the next trigger comes in a later one.
        const firstSecond = Math.floor(first.takenAt.getTime() / 1_000);
        await expect
          .poll(() => Math.floor(Date.now() / 1_000), { timeout: 2_000, interval: 20 })
          .toBeGreaterThan(firstSecond);
        await schedule.trigger();
        const second = await scheduleAction(config.importScheduleId, 2);
        expect(await triggerResult(second)).toEqual({ started: false });
        expect(await importHandle.describe()).toMatchObject({ runId: importRunId, status: { name: 'RUNNING' } });
        expect((await importHandle.query<ImportProgress>('progress')).rows).toBe(0);
      } finally {
        await held.release();
      }
      expect(await importHandle.result()).toMatchObject({ status: 'succeeded', rows: 30, recorded: 30 });
      // Both triggers were served by that one execution.
      expect((await importHandle.describe()).runId).toBe(importRunId);
      expect(await outcomeCounts([merchantB.id], fromId)).toEqual({ recorded: 30 });
      expect(await balanceOf(merchantB.id, 'LOAN-B0')).toBe(balanceBefore + 30n * 20n);

      // Paused by an operator, then ensured again with another interval (a restart with new
      // settings): the new interval applies, the pause and its note stay.
      await schedule.pause('bank file late');
      await ensureImportSchedule(stack.temporal, { ...config, importIntervalMs: 1_000 });
      const paused = await schedule.describe();
      expect(paused.state).toMatchObject({ paused: true, note: 'bank file late' });
      expect(paused.spec.intervals).toMatchObject([{ every: 1_000 }]);
      const taken = paused.info.numActionsTaken;
      const pausedFromId = await lastStagingId();
      await stage(scheduled('SCHED-P', 5));
      // That nothing runs can only be seen by letting the schedule's next times pass: three of them.
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      expect((await schedule.describe()).info.numActionsTaken).toBe(taken);
      expect(await outcomeCounts([merchantB.id], pausedFromId)).toEqual({ unprocessed: 5 });

      await schedule.unpause();
      await expect
        .poll(() => outcomeCounts([merchantB.id], pausedFromId), { timeout: 20_000, interval: 100 })
        .toEqual({ recorded: 5 });
      expect((await schedule.describe()).info.numActionsTaken).toBeGreaterThan(taken);
    } finally {
      await schedule.delete();
    }
    // Whatever import the schedule started last ends before the next test imports.
    await importHandle.result();
  }, 60_000);

  it('starts nothing, and leaves no run behind, on a tick with nothing staged', async () => {
    const merchant = await stack.merchant();
    const importWorkflowId = `import-empty-${randomUUID()}`;
    const runsBefore = await stack.prisma.importRun.count();
    const result = await stack.temporal.workflow.execute('importTriggerWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: `import-trigger-empty-${randomUUID()}`,
      args: [{ ...importInput(stack.config), merchantIds: [merchant.id], importWorkflowId }],
    });
    expect(result).toEqual({ started: false, nothingStaged: true });
    await expect(stack.temporal.workflow.getHandle(importWorkflowId).describe()).rejects.toMatchObject({
      name: 'WorkflowNotFoundError',
    });
    expect(await stack.prisma.importRun.count()).toBe(runsBefore);
  });
});
