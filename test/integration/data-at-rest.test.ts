import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startStack, bearer, type Stack } from '../support/stack.ts';
import { Prisma } from '../../src/db/prisma.ts';
import { card, paymentsClient } from '../support/payments.ts';
import { freePort } from '../../src/temporal/dev-server.ts';
import { requireKeyring } from '../../src/config.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { cipherFor, type ColumnCipher } from '../../src/crypto/column-cipher.ts';
import { rotateColumns } from '../../src/crypto/rotate-columns.ts';
import { openEventData } from '../../src/events/event-secrets.ts';
import { presentEvent } from '../../src/events/present.ts';
import { recordStagedBatch } from '../../src/records/staged-batch.ts';
import { closeImportRun, openImportRun } from '../../src/records/import-runs.ts';
import { openRecordPayload, sealRecordPayload } from '../../src/records/record-secrets.ts';

// Issue 12's remaining plaintext copies: the outbox (events.data), accounts' notes, recorded
// payments (the import seals them in SQL, the recording webhook in Node), the records waiting
// in payment_references, and transfers' and payouts' descriptions. Each table is read as text with raw SQL: no distinctive plaintext
// anywhere in a row. The API, the webhooks and the event stream show the plaintext, byte for byte
// as when events.data was plain jsonb. Rotation re-encrypts all of it.

let stack: Stack;
let merchant: { id: string; apiKey: string };
let cipher: ColumnCipher;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let stream: Awaited<ReturnType<typeof startStreamReader>>;
const poll = { timeout: 20_000, interval: 50 };
const tag = randomUUID().replace(/-/g, '');
/** Distinctive values: none may appear in any stored row. */
const secrets = {
  customer: `cus_${tag}`,
  description: `order desc ${tag}`,
  metadataValue: `mv_${tag}`,
  // Keys too: metadata is encrypted whole. Written in an order jsonb does not keep.
  metadataKey: `zz_key_${tag}`,
  newDescription: `new desc ${tag}`,
  accountDescription: `loan of ${tag}`,
  accountMetadataValue: `amv_${tag}`,
  customerReference: `CR-${tag}`,
  webhookCustomerReference: `WCR-${tag}`,
  stagedValue: `sv_${tag}`,
  transferDescription: `rent share ${tag}`,
  failedTransferDescription: `too much ${tag}`,
  payoutDescription: `payout memo ${tag}`,
};
const externalReference = `LOAN-${tag}`;
let accountId: string;
/** The answer of POST /v1/accounts/:id: account.updated shows the same. */
let accountUpdated: unknown;
let paymentId: string;
/** A succeeded transfer and a failed one (written by failTransfer), each with a description. */
let transferIds: { succeeded: string; failed: string };
let payoutId: string;

/** A webhook receiver keeping each raw body, as signed and sent. */
async function startReceiver() {
  const server = Fastify({ logger: false });
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  const bodies = new Map<string, string>();
  server.post('/hooks', async (request) => {
    const body = request.body as string;
    bodies.set((JSON.parse(body) as { id: string }).id, body);
    return { ok: true };
  });
  const port = await freePort();
  await server.listen({ host: '127.0.0.1', port });
  return { url: `http://127.0.0.1:${port}/hooks`, bodies, close: () => server.close() };
}

/** Reads the run's event stream (PAYMENTS) from the start, keeping each message's raw data by event id. */
async function startStreamReader() {
  const connection: NatsConnection = await connect({ servers: inject('natsUrl') });
  const jsm = await jetstreamManager(connection);
  const durable = `at-rest-${tag}`;
  await jsm.consumers.add('PAYMENTS', {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  const consumer = await jetstream(connection).consumers.get('PAYMENTS', durable);
  const bodies = new Map<string, string>();
  return {
    bodies,
    /** Reads until every id has arrived. */
    async waitFor(ids: readonly string[]) {
      await expect
        .poll(async () => {
          if (ids.every((id) => bodies.has(id))) return true;
          const batch = await consumer.fetch({ max_messages: 100, expires: 1_000 });
          for await (const message of batch) {
            const id = message.headers?.get('Nats-Msg-Id');
            if (id) bodies.set(id, message.string());
            await message.ack();
          }
          return ids.every((id) => bodies.has(id));
        }, poll)
        .toBe(true);
    },
    close: async () => {
      await jsm.consumers.delete('PAYMENTS', durable);
      await connection.close();
    },
  };
}

const api = (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = {}) =>
  stack.app.inject({
    method,
    url,
    headers: { ...bearer(merchant.apiKey), ...headers },
    ...(payload ? { payload } : {}),
  });

/** What PostgreSQL's jsonb makes of a value: what a plaintext events.data read as. */
async function asJsonb(value: unknown): Promise<unknown> {
  const rows = await stack.prisma.$queryRaw<{ value: unknown }[]>`SELECT ${JSON.stringify(value)}::jsonb AS value`;
  return rows[0]!.value;
}

/** Every row of a table the merchant owns, each as its JSON text. */
async function rowsAsText(table: string): Promise<string[]> {
  const rows = await stack.prisma.$queryRaw<{ row: string }[]>`
    SELECT row_to_json(t)::text AS row FROM ${Prisma.raw(table)} t WHERE merchant_id = ${merchant.id}`;
  expect(rows.length).toBeGreaterThan(0);
  return rows.map((row) => row.row);
}

function expectNoPlaintext(rows: readonly string[]): void {
  for (const row of rows) {
    for (const secret of Object.values(secrets)) expect(row.includes(secret), `${secret} in ${row}`).toBe(false);
  }
}

/** Stages rows of the merchant's account, one per metadata kind, and imports them (one batch). */
async function importStaged(metadata: readonly (string | null)[]): Promise<string[]> {
  const references = metadata.map((_value, index) => `IMP-${tag}-${index}`);
  const [last] = await stack.prisma.$queryRaw<{ id: bigint }[]>`SELECT coalesce(max(id), 0) AS id FROM payment_staging`;
  await stack.prisma.$executeRaw`
    INSERT INTO payment_staging (merchant_id, reference_number, account_reference, customer_reference, amount_minor,
                                 currency, paid_at, channel, metadata)
    SELECT ${merchant.id}, r.reference, ${externalReference},
           CASE WHEN r.ord % 2 = 1 THEN ${secrets.customerReference} || '-' || r.ord END, 100 * r.ord, 'USD',
           now() - interval '1 hour', 'bank_transfer', r.metadata::jsonb
      FROM unnest(${references}::text[], ${[...metadata]}::text[]) WITH ORDINALITY AS r(reference, metadata, ord)`;
  const runId = `imp_at_rest_${tag}`;
  await openImportRun(stack.prisma, runId);
  const result = await recordStagedBatch(stack.prisma, cipher, {
    runId,
    afterId: last!.id,
    batchSize: 100,
    merchantIds: [merchant.id],
  });
  await closeImportRun(stack.prisma, runId, { status: 'succeeded' });
  expect(result).toMatchObject({ rows: metadata.length, recorded: metadata.length, duplicates: 0, invalid: 0 });
  return references;
}

/** From the account (funded by a deposit) to a new one: one transfer that succeeds, one that fails. */
async function makeTransfers(): Promise<{ succeeded: string; failed: string }> {
  const deposit = { amount: 500, reference: 'funding' };
  expect(
    (await api('POST', `/v1/accounts/${accountId}/deposits`, deposit, { 'idempotency-key': `dep-${tag}` })).statusCode,
  ).toBe(201);
  const opened = await api('POST', '/v1/accounts', { type: 'customer', currency: 'USD' });
  expect(opened.statusCode).toBe(201);
  const to = opened.json<{ id: string }>().id;
  const transfer = async (amount: number, description: string) => {
    const body = { from_account_id: accountId, to_account_id: to, amount, currency: 'USD', description };
    const response = await api('POST', '/v1/transfers', body, { 'idempotency-key': `tr-${amount}-${tag}` });
    expect(response.statusCode).toBe(201);
    return response.json<{ id: string; status: string; description: string }>();
  };
  const succeeded = await transfer(200, secrets.transferDescription);
  expect([succeeded.status, succeeded.description]).toEqual(['succeeded', secrets.transferDescription]);
  const failed = await transfer(10_000, secrets.failedTransferDescription);
  expect([failed.status, failed.description]).toEqual(['failed', secrets.failedTransferDescription]);
  return { succeeded: succeeded.id, failed: failed.id };
}

/** Pays out part of the settled card payment, and waits until it is paid. */
async function payOut(): Promise<string> {
  await vi.waitFor(
    async () => expect((await api('GET', `/v1/payments/${paymentId}`)).json<{ settled: boolean }>().settled).toBe(true),
    poll,
  );
  const body = { amount: 100, currency: 'USD', description: secrets.payoutDescription };
  const response = await api('POST', '/v1/payouts', body, { 'idempotency-key': `po-${tag}` });
  expect(response.statusCode).toBe(201);
  const payout = response.json<{ id: string; description: string }>();
  expect(payout.description).toBe(secrets.payoutDescription);
  await vi.waitFor(
    async () => expect((await api('GET', `/v1/payouts/${payout.id}`)).json<{ status: string }>().status).toBe('paid'),
    poll,
  );
  return payout.id;
}

beforeAll(async () => {
  stack = await startStack(
    'data-at-rest',
    {
      relayIntervalMs: 50,
      eventPublishIntervalMs: 50,
      // The card payment settles at once: its proceeds are paid out below.
      settlementDelayMs: 100,
      payoutTiming: { submitTimeoutMs: 20_000, lookupTimeoutMs: 20_000, statusPollMs: 200 },
    },
    { payoutArrivalMs: 300 },
  );
  merchant = await stack.merchant();
  cipher = cipherFor(requireKeyring(stack.config));
  receiver = await startReceiver();
  stream = await startStreamReader();
  const endpoint = await api('POST', '/v1/webhook_endpoints', { url: receiver.url, events: ['*'] });
  expect(endpoint.statusCode).toBe(201);

  const account = await api('POST', '/v1/accounts', {
    type: 'customer',
    currency: 'USD',
    external_reference: externalReference,
    description: secrets.accountDescription,
    metadata: { [secrets.metadataKey]: secrets.accountMetadataValue, a: 'first' },
  });
  expect(account.statusCode).toBe(201);
  accountId = account.json<{ id: string }>().id;
  const updated = await api(
    'POST',
    `/v1/accounts/${accountId}`,
    { metadata: { b: 'second' } },
    { 'idempotency-key': tag },
  );
  expect(updated.statusCode).toBe(200);
  accountUpdated = updated.json();

  const payment = await paymentsClient(stack, merchant).create({
    amount: 1_500,
    currency: 'USD',
    source: card(),
    customer: secrets.customer,
    description: secrets.description,
    metadata: { [secrets.metadataKey]: secrets.metadataValue, a: 'x' },
  });
  expect(payment.statusCode).toBe(201);
  paymentId = payment.json<{ id: string }>().id;
  expect((await api('POST', `/v1/payments/${paymentId}`, { description: secrets.newDescription })).statusCode).toBe(
    200,
  );

  const record = await api(
    'POST',
    '/v1/payment_records',
    {
      reference_number: `WEB-${tag}`,
      account_reference: externalReference,
      customer_reference: secrets.webhookCustomerReference,
      amount: 2_500,
      currency: 'USD',
      paid_at: new Date(Date.now() - 60_000).toISOString(),
      metadata: { [secrets.metadataKey]: secrets.stagedValue, branch: 'north' },
    },
    { 'idempotency-key': `rec-${tag}` },
  );
  expect(record.statusCode).toBe(201);
  transferIds = await makeTransfers();
  payoutId = await payOut();
  await vi.waitFor(
    async () =>
      expect(await stack.prisma.paymentReference.count({ where: { merchantId: merchant.id, recordedAt: null } })).toBe(
        0,
      ),
    poll,
  );
});
afterAll(async () => {
  await stream?.close();
  await receiver?.close();
  await stack?.close();
});

describe('sensitive copies at rest', () => {
  it('imports staged rows with every kind of metadata, encrypted by PostgreSQL, and clears the staged copies', async () => {
    const metadata = [
      JSON.stringify({ [secrets.metadataKey]: secrets.stagedValue, a: 1, nested: { y: [secrets.stagedValue], x: 2 } }),
      JSON.stringify(secrets.stagedValue),
      JSON.stringify([secrets.stagedValue, 2]),
      '12.5',
      'null',
      null,
    ];
    const references = await importStaged(metadata);
    const keyId = cipher.keyring.currentKeyId;
    const records = await stack.prisma.$queryRaw<{ customer_reference: string | null; metadata: unknown }[]>`
      SELECT customer_reference, metadata FROM recorded_payments
       WHERE merchant_id = ${merchant.id} AND reference_number = ANY (${references}::text[])
       ORDER BY reference_number`;
    const prefixOf = (value: string | null) => (value === null ? null : value.slice(0, 8 + keyId.length));
    expect(records.map((record) => prefixOf(record.customer_reference))).toEqual(
      references.map((_reference, index) => (index % 2 === 0 ? `enc:v2:${keyId}:` : null)),
    );
    expect(records.map((record) => (typeof record.metadata === 'string' ? record.metadata.slice(0, 7) : null))).toEqual(
      ['enc:v2:', 'enc:v2:', 'enc:v2:', 'enc:v2:', null, null],
    );
    const staged = await stack.prisma.paymentStaging.findMany({
      where: { merchantId: merchant.id, referenceNumber: { in: references } },
    });
    expect(staged.map((row) => [row.outcome, row.customerReference, row.metadata])).toEqual(
      references.map(() => ['recorded', null, null]),
    );

    // Through the API: the public shape, its metadata as jsonb ordered it before.
    for (const [index, reference] of references.entries()) {
      const record = await stack.prisma.recordedPayment.findFirstOrThrow({
        where: { merchantId: merchant.id, referenceNumber: reference },
      });
      const shown = await api('GET', `/v1/payment_records/${record.id}`);
      expect(shown.statusCode).toBe(200);
      const raw = metadata[index] ?? null;
      const parsed: unknown = raw === null ? null : JSON.parse(raw);
      const expected =
        parsed === null ? null : typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : { value: parsed };
      const body = shown.json<{ customer_reference: string | null; metadata: unknown }>();
      expect(body.customer_reference).toBe(index % 2 === 0 ? `${secrets.customerReference}-${index + 1}` : null);
      expect(JSON.stringify(body.metadata)).toBe(JSON.stringify(await asJsonb(expected)));
    }
  });

  it('keeps no plaintext in any table row', async () => {
    expectNoPlaintext(await rowsAsText('events'));
    expectNoPlaintext(await rowsAsText('accounts'));
    expectNoPlaintext(await rowsAsText('recorded_payments'));
    expectNoPlaintext(await rowsAsText('payment_references'));
    expectNoPlaintext(await rowsAsText('payment_staging'));
    expectNoPlaintext(await rowsAsText('payments'));
    expectNoPlaintext(await rowsAsText('idempotency_keys'));
    expectNoPlaintext(await rowsAsText('transfers'));
    expectNoPlaintext(await rowsAsText('payouts'));
    const descriptions = await stack.prisma.$queryRaw<{ description: string }[]>`
      SELECT description FROM transfers WHERE merchant_id = ${merchant.id}
      UNION ALL SELECT description FROM payouts WHERE merchant_id = ${merchant.id}`;
    expect(descriptions.map((row) => row.description.slice(0, 7))).toEqual(['enc:v1:', 'enc:v1:', 'enc:v1:']);
    // The recording webhook's record waited encrypted, and is gone once recorded.
    const claims = await stack.prisma.paymentReference.findMany({ where: { merchantId: merchant.id } });
    expect(claims.map((claim) => claim.payload)).toEqual(claims.map(() => null));
    const [account] = await stack.prisma.$queryRaw<{ description: string; metadata: unknown }[]>`
      SELECT description, metadata FROM accounts WHERE id = ${accountId}`;
    expect(account!.description).toMatch(/^enc:v1:/);
    expect(account!.metadata).toMatch(/^enc:v1:/);
  });

  it('shows each event in the clear, byte for byte as plain jsonb did, on GET, webhooks and the stream', async () => {
    const events = await stack.prisma.event.findMany({
      where: { merchantId: merchant.id },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    expect(new Set(events.map((event) => event.type))).toEqual(
      new Set([
        'account.updated',
        'payment.created',
        'payment.succeeded',
        'payment.updated',
        'payment.settled',
        'payment_record.created',
        'deposit.succeeded',
        'transfer.succeeded',
        'transfer.failed',
        'payout.created',
        'payout.paid',
      ]),
    );
    const ids = events.map((event) => event.id);
    await expect.poll(() => ids.filter((id) => !receiver.bodies.has(id)), poll).toEqual([]);
    await stream.waitFor(ids);
    for (const event of events) {
      const opened = openEventData(cipher, event.data);
      const expected = JSON.stringify(presentEvent({ ...event, data: await asJsonb(opened) }));
      expect(JSON.stringify(presentEvent({ ...event, data: opened }))).toBe(expected);
      expect(receiver.bodies.get(event.id)).toBe(expected);
      expect(stream.bodies.get(event.id)).toBe(expected);
      const shown = await api('GET', `/v1/events/${event.id}`);
      expect(shown.statusCode).toBe(200);
      expect(shown.body).toBe(expected);
    }
    const listed = await api('GET', '/v1/events?limit=100');
    expect(JSON.stringify(listed.json<{ data: unknown[] }>().data)).toBe(
      JSON.stringify([...events].reverse().map((event) => JSON.parse(receiver.bodies.get(event.id)!) as unknown)),
    );

    // The plaintext is the resources' own.
    const data = (type: string) =>
      events.filter((event) => event.type === type).map((event) => openEventData(cipher, event.data)) as Record<
        string,
        unknown
      >[];
    // The payment has settled since its update (its proceeds were paid out).
    const payment = (await api('GET', `/v1/payments/${paymentId}`)).json<object>();
    expect(data('payment.updated')).toEqual([{ ...payment, settled: false }]);
    expect(data('payment.created')[0]).toMatchObject({
      customer: secrets.customer,
      description: secrets.description,
      metadata: { [secrets.metadataKey]: secrets.metadataValue, a: 'x' },
    });
    expect(data('account.updated')).toEqual([accountUpdated]);
    expect(data('account.updated')[0]).toMatchObject({
      description: secrets.accountDescription,
      metadata: { [secrets.metadataKey]: secrets.accountMetadataValue, a: 'first', b: 'second' },
    });
    const webhookRecord = data('payment_record.created').find((record) => record.source === 'webhook');
    expect(webhookRecord).toMatchObject({
      customer_reference: secrets.webhookCustomerReference,
      metadata: { [secrets.metadataKey]: secrets.stagedValue, branch: 'north' },
    });
    expect((await api('GET', `/v1/payment_records/${String(webhookRecord!.id)}`)).json()).toEqual(webhookRecord);

    // Transfers and payouts: one, and in lists, as their events show them.
    const transfers = [...data('transfer.succeeded'), ...data('transfer.failed')];
    expect(transfers.map((transfer) => [transfer.id, transfer.description])).toEqual([
      [transferIds.succeeded, secrets.transferDescription],
      [transferIds.failed, secrets.failedTransferDescription],
    ]);
    for (const transfer of transfers) {
      expect((await api('GET', `/v1/transfers/${String(transfer.id)}`)).json()).toEqual(transfer);
    }
    const transferList = await api('GET', `/v1/transfers?account_id=${accountId}`);
    expect(transferList.json<{ data: unknown[] }>().data).toEqual([...transfers].reverse());
    const payouts = data('payout.paid');
    expect(payouts.map((payout) => [payout.id, payout.description])).toEqual([[payoutId, secrets.payoutDescription]]);
    expect(data('payout.created').map((payout) => payout.description)).toEqual([secrets.payoutDescription]);
    expect((await api('GET', `/v1/payouts/${payoutId}`)).json()).toEqual(payouts[0]);
    expect((await api('GET', '/v1/payouts')).json<{ data: unknown[] }>().data).toEqual(payouts);
  });

  it('refuses to import without the keys: nothing is recorded in the clear', async () => {
    await expect(
      stack.prisma.$transaction(
        (tx) =>
          tx.$queryRaw`SELECT * FROM record_staged_batch(${`imp_nokeys_${tag}`}, 0::bigint, 10, 100::bigint,
          now() - interval '1 day', interval '1 day', ${[merchant.id]}::text[], NULL::bigint, 0, 1)`,
      ),
    ).rejects.toThrow(/sql_seal_keys_missing/);
  });

  it('rotation re-encrypts accounts, recorded payments, waiting records, transfers, payouts and events, once', async () => {
    // A record still waiting for its workflow, as the intake leaves it.
    const waiting = {
      accountId,
      accountReference: externalReference,
      customerReference: secrets.webhookCustomerReference,
      amount: '1',
      currency: 'USD',
      paidAt: new Date().toISOString(),
      channel: null,
      metadata: null,
    };
    await stack.prisma.paymentReference.create({
      data: {
        merchantId: merchant.id,
        reference: `WAIT-${tag}`,
        recordedPaymentId: `rec_wait_${tag}`,
        source: 'webhook',
        payload: sealRecordPayload(cipher, waiting),
        expiresAt: new Date(Date.now() + 60_000),
      },
    });
    const [counts] = await stack.prisma.$queryRaw<{ records: number; events: number }[]>`
      SELECT (SELECT count(*)::int FROM recorded_payments WHERE merchant_id = ${merchant.id}
                 AND (customer_reference IS NOT NULL OR metadata IS NOT NULL)) AS records,
             (SELECT count(*)::int FROM events WHERE merchant_id = ${merchant.id} AND (
                 jsonb_typeof(data->'customer') = 'string' OR jsonb_typeof(data->'customer_reference') = 'string'
                 OR jsonb_typeof(data->'description') = 'string' OR jsonb_typeof(data->'metadata') = 'string')) AS events`;
    const entry = Keyring.generateEntry('rotated');
    const rotated = cipherFor(Keyring.parse(`${entry},${inject('encryptionKeys')}`));
    const options = { merchantIds: [merchant.id], batchSizeRows: 3 };
    const expected = {
      payments: 1,
      webhookEndpoints: 1,
      // The endpoint, the account update, the payment record, the deposit, both transfers and the payout.
      idempotencyKeys: 7,
      accounts: 1,
      recordedPayments: counts!.records,
      paymentReferences: 1,
      transfers: 2,
      payouts: 1,
      events: counts!.events,
    };
    expect(await rotateColumns(stack.prisma, rotated, options)).toEqual(expected);
    expect(Object.values(await rotateColumns(stack.prisma, rotated, options)).every((rows) => rows === 0)).toBe(true);

    const sealedValues = await stack.prisma.$queryRaw<{ value: string }[]>`
      SELECT customer_reference AS value FROM recorded_payments WHERE merchant_id = ${merchant.id} AND customer_reference IS NOT NULL
      UNION ALL SELECT metadata #>> '{}' FROM recorded_payments WHERE merchant_id = ${merchant.id} AND metadata IS NOT NULL
      UNION ALL SELECT description FROM accounts WHERE id = ${accountId}
      UNION ALL SELECT payload #>> '{}' FROM payment_references WHERE merchant_id = ${merchant.id} AND payload IS NOT NULL
      UNION ALL SELECT description FROM transfers WHERE merchant_id = ${merchant.id}
      UNION ALL SELECT description FROM payouts WHERE merchant_id = ${merchant.id}
      UNION ALL SELECT value FROM events, jsonb_each_text(data) AS f(key, value)
       WHERE merchant_id = ${merchant.id} AND key IN ('customer', 'customer_reference', 'description', 'metadata')
         AND value IS NOT NULL`;
    expect(sealedValues.length).toBeGreaterThan(counts!.records + counts!.events);
    expect(sealedValues.filter((row) => !row.value.startsWith('enc:v1:rotated:'))).toEqual([]);
    expectNoPlaintext(await rowsAsText('events'));
    expectNoPlaintext(await rowsAsText('recorded_payments'));
    expectNoPlaintext(await rowsAsText('transfers'));
    expectNoPlaintext(await rowsAsText('payouts'));

    const claim = await stack.prisma.paymentReference.findUniqueOrThrow({
      where: { merchantId_reference: { merchantId: merchant.id, reference: `WAIT-${tag}` } },
    });
    expect(openRecordPayload(rotated, claim.payload)).toEqual(waiting);
    const events = await stack.prisma.event.findMany({ where: { merchantId: merchant.id } });
    for (const event of events) {
      expect(JSON.stringify(presentEvent({ ...event, data: openEventData(rotated, event.data) }))).toBe(
        receiver.bodies.get(event.id),
      );
    }
    // Back to the run's key, so the suite's stack reads everything again.
    const back = cipherFor(Keyring.parse(`${inject('encryptionKeys')},${entry}`));
    expect(await rotateColumns(stack.prisma, back, options)).toEqual(expected);
    expect((await api('GET', `/v1/accounts/${accountId}`)).json()).toMatchObject({
      description: secrets.accountDescription,
    });
    expect((await api('GET', `/v1/transfers/${transferIds.succeeded}`)).json()).toMatchObject({
      description: secrets.transferDescription,
    });
    expect((await api('GET', `/v1/payouts/${payoutId}`)).json()).toMatchObject({
      description: secrets.payoutDescription,
    });
    await stack.prisma.paymentReference.delete({
      where: { merchantId_reference: { merchantId: merchant.id, reference: `WAIT-${tag}` } },
    });
  });
});
