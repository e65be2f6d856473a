import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { stripeSignatureHeader } from '../../src/providers/webhook-signatures.ts';
import { importInput } from '../../src/temporal/import-schedule.ts';
import type { ImportProgress } from '../../src/domain/import-progress.ts';

// The staging import and the recording webhook against the real stack: 20,000+ staged rows with
// every kind of duplicate and invalid row, a worker killed mid-import, the same references
// arriving by import and webhook at once, and partitions made ahead by maintenance. Suites share
// one database: every import here is scoped to this suite's merchants and runs under its own
// workflow id.

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
    const events = await stack.prisma.event.count({
      where: { merchantId: { in: [merchantA.id, merchantB.id] }, type: 'payment_record.created' },
    });
    expect(events).toBeGreaterThanOrEqual(expected.recorded);
    expect(await reconcile(stack.prisma)).toEqual([]);
  }, 90_000);

  it('records a reference arriving by import and by webhook at once exactly once; POST /v1/imports joins the running import', async () => {
    const references = Array.from({ length: 150 }, (_, index) => `RACE-${index}`);
    const paidAt = new Date(Date.now() - dayMs);
    const before = await balanceOf(merchantA.id, 'LOAN-A2');
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
    expect(event.data).toEqual(read.json());
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
