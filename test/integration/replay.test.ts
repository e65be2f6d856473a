import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { createDataConverter } from '../../src/temporal/data-converter.ts';
import { EncryptionCodec } from '../../src/temporal/encryption-codec.ts';
import { requireKeyring } from '../../src/config.ts';
import { Keyring } from '../../src/crypto/keyring.ts';
import { decryptedHistoryJson } from '../support/decrypted-history.ts';
import Fastify from 'fastify';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { stripeSignatureHeader } from '../../src/providers/webhook-signatures.ts';
import { freePort } from '../../src/temporal/dev-server.ts';
import { providerEventSignal } from '../../workflows/messages.ts';
import { payoutOutcomeSignal } from '../../workflows/payout-messages.ts';
import { requestedPayoutId } from '../../src/payouts/payout-ids.ts';
import type { PayoutInput } from '../../src/domain/payout-view.ts';
import type { PayoutTiming } from '../../src/domain/payout-settings.ts';
import { failCompletionsFrom } from '../support/transfer-faults.ts';

// Recorded histories of the main workflow paths, replayed against today's workflow code: a
// change that is not deterministic (without `patched`) fails here instead of in production.
// Record anew with `RECORD_HISTORIES=1 npx vitest run test/integration/replay.test.ts`, only
// when a new path or workflow is added; never to make a failing replay pass.

const fixtures = path.resolve(import.meta.dirname, '..', 'fixtures', 'histories');
const recording = process.env.RECORD_HISTORIES === '1';

async function recordPaths(stack: Stack): Promise<void> {
  const merchant = await stack.merchant();
  const post = (url: string, payload: object, key?: string) =>
    stack.app.inject({
      method: 'POST',
      url,
      headers: { ...bearer(merchant.apiKey), ...(key ? { 'idempotency-key': key } : {}) },
      payload,
    });
  const open = async () =>
    (await post('/v1/accounts', { type: 'customer', currency: 'USD' })).json<{ id: string }>().id;
  const from = await open();
  const to = await open();
  // [fixture name, workflow id, run id (default: the latest run)]
  const paths: [string, string, string?][] = [];
  expect((await post(`/v1/accounts/${from}/deposits`, { amount: 1_000, reference: 'r' }, 'deposit')).statusCode).toBe(
    201,
  );
  paths.push(['deposit-succeeded', `deposit:${merchant.id}:deposit`]);
  for (const [name, amount] of [
    ['transfer-succeeded', 100],
    ['transfer-insufficient-funds', 100_000],
    ['transfer-blocked-compensated', 800],
  ] as const) {
    const response = await post(
      '/v1/transfers',
      { from_account_id: from, to_account_id: to, amount, currency: 'USD' },
      name,
    );
    expect(response.statusCode).toBe(201);
    paths.push([name, `transfer:${merchant.id}:${name}`]);
  }
  // A capture out of retries (a database fault that is no business answer): compensated, failed.
  const endFault = await failCompletionsFrom(stack.prisma, from);
  try {
    const name = 'transfer-capture-failed-compensated';
    const response = await post(
      '/v1/transfers',
      { from_account_id: from, to_account_id: to, amount: 10, currency: 'USD' },
      name,
    );
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ status: 'failed', failure_code: 'service_unavailable' });
    paths.push([name, `transfer:${merchant.id}:${name}`]);
  } finally {
    await endFault();
  }
  const pay = async (name: string, payload: object) => {
    const response = await post('/v1/payments', payload, name);
    expect(response.statusCode).toBe(201);
    return response.json<{ id: string }>().id;
  };
  const card = { type: 'card', token: 'tok_visa' };
  const refunded = await pay('payment-v2-automatic-refunded', { amount: 10_000, currency: 'USD', source: card });
  expect((await post(`/v1/payments/${refunded}/refunds`, { amount: 4_000 })).statusCode).toBe(201);
  paths.push(['payment-v2-automatic-refunded', refunded]);
  const manual = await pay('payment-v2-manual-captured', {
    amount: 5_000,
    currency: 'USD',
    source: card,
    capture_method: 'manual',
  });
  expect((await post(`/v1/payments/${manual}/capture`, { amount: 3_000 })).statusCode).toBe(200);
  paths.push(['payment-v2-manual-captured', manual]);
  const canceled = await pay('payment-v2-manual-canceled', {
    amount: 5_000,
    currency: 'USD',
    source: card,
    capture_method: 'manual',
  });
  expect((await post(`/v1/payments/${canceled}/cancel`, {})).statusCode).toBe(200);
  paths.push(['payment-v2-manual-canceled', canceled]);
  paths.push([
    'payment-v2-declined',
    await pay('payment-v2-declined', {
      amount: 5_000,
      currency: 'USD',
      source: { type: 'card', token: 'tok_chargeDeclined' },
    }),
  ]);
  const reviewed = await pay('payment-v2-review-approved', { amount: 900_000, currency: 'USD', source: card });
  expect((await post(`/v1/payments/${reviewed}/approve`, {})).statusCode).toBe(200);
  paths.push(['payment-v2-review-approved', reviewed]);
  paths.push([
    'payment-v2-wallet-insufficient',
    await pay('payment-v2-wallet-insufficient', {
      amount: 5_000,
      currency: 'USD',
      source: { type: 'wallet', account_id: to },
    }),
  ]);

  // Inbound webhooks: one for a known charge (delivered), one for an unknown one (unmatched).
  const charge = (await stack.prisma.payment.findUniqueOrThrow({ where: { id: refunded } })).providerChargeId ?? '';
  for (const [name, chargeId] of [
    ['webhook-v2-delivered', charge],
    ['webhook-v2-unmatched', 'ch_unknown'],
  ] as const) {
    const body = JSON.stringify({
      id: `evt_${name}_${Date.now()}`,
      type: 'charge.captured',
      data: {
        object: {
          id: chargeId,
          object: 'charge',
          amount: 10_000,
          amount_captured: 10_000,
          amount_refunded: 0,
          captured: true,
          refunded: false,
          status: 'succeeded',
          currency: 'usd',
          payment_method_details: { card: { brand: 'visa', last4: '4242' } },
        },
      },
    });
    const signature = stripeSignatureHeader(
      stack.config.webhookSecretsStripe[0] ?? '',
      body,
      Math.floor(Date.now() / 1000),
    );
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/webhooks/stripe',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      payload: body,
    });
    expect(response.json()).toEqual({ received: true, duplicate: false });
    const externalId = JSON.parse(body).id as string;
    // The inbox starts the workflow just after acknowledging.
    for (let tries = 0; tries < 100; tries++) {
      const row = await stack.prisma.webhookEvent.findFirst({ where: { externalId } });
      if (row?.workflowStartedAt) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const handle = stack.temporal.workflow.getHandle(`webhook:stripe:${externalId}`);
    await handle.result();
    paths.push([name, handle.workflowId]);
  }

  // Outbound: a deposit announced to an endpoint that answers 200.
  const receiver = Fastify({ logger: false });
  receiver.post('/hook', async () => ({ ok: true }));
  const port = await freePort();
  await receiver.listen({ host: '127.0.0.1', port });
  try {
    const endpoint = await post('/v1/webhook_endpoints', {
      url: `http://127.0.0.1:${port}/hook`,
      events: ['deposit.succeeded'],
    });
    expect(endpoint.statusCode).toBe(201);
    expect(
      (await post(`/v1/accounts/${from}/deposits`, { amount: 5, reference: 'r' }, 'deposit-announced')).statusCode,
    ).toBe(201);
    const endpointId = endpoint.json<{ id: string }>().id;
    // Recording runs in beforeAll, where expect.poll is not available: the relay starts the
    // delivery workflow within a few of its ticks.
    const succeeded = () => stack.prisma.webhookDelivery.findFirst({ where: { endpointId, status: 'succeeded' } });
    let delivery = await succeeded();
    for (let tries = 0; !delivery && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      delivery = await succeeded();
    }
    if (!delivery) throw new Error('the relay started no delivery');
    await stack.temporal.workflow.getHandle(delivery.id).result();
    paths.push(['delivery-succeeded', delivery.id]);
  } finally {
    await receiver.close();
  }

  // Since the hold sweep (the first maintenance fixture was recorded before it).
  const maintenance = await stack.temporal.workflow.start('maintenanceWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: `maintenance-record-${Date.now()}`,
    args: [{ idempotencyKeyTtlMs: 24 * 60 * 60 * 1000, maxHoldsExpiredPerRun: 100 }],
  });
  await maintenance.result();
  paths.push(['maintenance-holds-swept', maintenance.workflowId]);

  paths.push(...(await recordMoreV2Paths(stack, pay, post, from)));
  paths.push(...(await recordUnknownOutcomePaths(stack, pay, post)));
  paths.push(...(await recordImportPaths(stack, merchant)));
  paths.push(...(await recordReconciliationPaths(stack)));
  paths.push(...(await recordPayoutPaths(stack)));

  await mkdir(fixtures, { recursive: true });
  for (const [name, workflowId, runId] of paths) {
    // A fixture recorded by older code stays as it was: it proves today's code replays that history.
    if (
      await readFile(path.join(fixtures, `${name}.json`)).then(
        () => true,
        () => false,
      )
    )
      continue;
    const history = await stack.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
    // Stored decrypted: the run's key is gone after the run, and the replay below reads
    // plaintext payloads through the codec unchanged.
    const decrypted = decryptedHistoryJson(history, new EncryptionCodec(requireKeyring(stack.config)));
    await writeFile(path.join(fixtures, `${name}.json`), JSON.stringify(decrypted, null, 1));
  }
}

/**
 * Paths only the second payment workflow version has: a wallet capture, a dispute reported by
 * the provider, and a run that continues as new (both runs: the hand-over and the resumed one).
 */
async function recordMoreV2Paths(
  stack: Stack,
  pay: (name: string, payload: object) => Promise<string>,
  post: (url: string, payload: object, key?: string) => Promise<{ statusCode: number }>,
  funded: string,
): Promise<[string, string, string?][]> {
  const paths: [string, string, string?][] = [];
  paths.push([
    'payment-v2-wallet-captured',
    await pay('payment-v2-wallet-captured', {
      amount: 300,
      currency: 'USD',
      source: { type: 'wallet', account_id: funded },
    }),
  ]);
  const card = { type: 'card', token: 'tok_visa' };
  const disputed = await pay('payment-v2-disputed', { amount: 2_000, currency: 'USD', source: card });
  const chargeId = (await stack.prisma.payment.findUniqueOrThrow({ where: { id: disputed } })).providerChargeId ?? '';
  await stack.temporal.workflow.getHandle(disputed).signal(providerEventSignal, {
    kind: 'dispute_created',
    eventId: 'evt_dispute',
    chargeId,
    disputeId: 'dp_1',
    amount: 500n,
  });
  await waitFor(
    async () =>
      (await stack.prisma.paymentEvent.count({ where: { paymentId: disputed, type: 'payment.dispute_created' } })) ===
      1,
  );
  paths.push(['payment-v2-disputed', disputed]);

  // The recording stack continues payments as new past 30 events: refunds after settlement get there.
  const continued = await pay('payment-v2-continued', { amount: 5_000, currency: 'USD', source: card });
  await waitFor(async () => (await stack.prisma.payment.findUniqueOrThrow({ where: { id: continued } })).settled);
  for (let refund = 1; refund <= 4; refund++) {
    expect((await post(`/v1/payments/${continued}/refunds`, { amount: 100 }, `continued-${refund}`)).statusCode).toBe(
      201,
    );
  }
  const runs: string[] = [];
  await waitFor(async () => {
    runs.length = 0;
    for await (const run of stack.temporal.workflow.list({ query: `WorkflowId = '${continued}'` }))
      runs.push(run.runId);
    return runs.length >= 2;
  });
  const first = (await stack.temporal.workflow.getHandle(continued).describe()).raw.workflowExecutionInfo?.firstRunId;
  if (!first) throw new Error('the continued payment has no first run id');
  paths.push(['payment-v2-continued-first-run', continued, first], ['payment-v2-continued-resumed', continued]);
  paths.push(...(await recordQuietEndPaths(stack, pay, post)));
  return paths;
}

/**
 * Since runs end in a workflow task that answers no update (quietEndPatch): a payment refunded
 * in full after settlement, which completes, and a run that continues as new.
 */
async function recordQuietEndPaths(
  stack: Stack,
  pay: (name: string, payload: object) => Promise<string>,
  post: (url: string, payload: object, key?: string) => Promise<{ statusCode: number }>,
): Promise<[string, string, string?][]> {
  const card = { type: 'card', token: 'tok_visa' };
  const settled = async (id: string) =>
    waitFor(async () => (await stack.prisma.payment.findUniqueOrThrow({ where: { id } })).settled);
  const ended = await pay('payment-v2-refunded-in-full-ended', { amount: 2_000, currency: 'USD', source: card });
  await settled(ended);
  expect((await post(`/v1/payments/${ended}/refunds`, {}, 'refunded-in-full')).statusCode).toBe(201);
  await stack.temporal.workflow.getHandle(ended).result();
  const continued = await pay('payment-v2-quiet-end-continued', { amount: 5_000, currency: 'USD', source: card });
  await settled(continued);
  for (let refund = 1; refund <= 4; refund++) {
    expect((await post(`/v1/payments/${continued}/refunds`, { amount: 100 }, `quiet-end-${refund}`)).statusCode).toBe(
      201,
    );
  }
  await waitFor(async () => {
    let runs = 0;
    for await (const _run of stack.temporal.workflow.list({ query: `WorkflowId = '${continued}'` })) runs += 1;
    return runs >= 2;
  });
  const first = (await stack.temporal.workflow.getHandle(continued).describe()).raw.workflowExecutionInfo?.firstRunId;
  if (!first) throw new Error('the continued payment has no first run id');
  return [
    ['payment-v2-refunded-in-full-ended', ended],
    ['payment-v2-quiet-end-continued-first-run', continued, first],
  ];
}

/**
 * Provider steps whose answer was lost (the simulator's timeout faults), resolved by lookup:
 * an authorization the provider made, a capture that never reached it (not made, then made on
 * the next request), a refund the provider made, and an authorization the provider cannot tell
 * about until the last lookup (requires_attention), resolved by an operator's lookup.
 */
async function recordUnknownOutcomePaths(
  stack: Stack,
  pay: (name: string, payload: object) => Promise<string>,
  post: (url: string, payload: object, key?: string) => Promise<{ statusCode: number }>,
): Promise<[string, string, string?][]> {
  const timeOut = async (operation: string, processed: boolean, count = 1) => {
    const response = await stack.sim.inject({
      method: 'POST',
      url: '/admin/faults/timeouts',
      payload: { provider: 'stripe', operation, processed, count },
    });
    expect(response.statusCode).toBe(200);
  };
  const card = { type: 'card', token: 'tok_visa', provider: 'stripe' };
  const paths: [string, string, string?][] = [];
  // The recording stack continues payments as new after settlement: each path is its first run.
  const firstRun = async (name: string, workflowId: string) => {
    const first = (await stack.temporal.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo
      ?.firstRunId;
    if (!first) throw new Error(`${name} has no first run id`);
    paths.push([name, workflowId, first]);
  };

  await timeOut('authorize', true);
  await firstRun(
    'payment-v2-authorize-lookup-found',
    await pay('payment-v2-authorize-lookup-found', { amount: 1_000, currency: 'USD', source: card }),
  );

  const manual = await pay('payment-v2-capture-lookup-not-made', {
    amount: 1_000,
    currency: 'USD',
    source: card,
    capture_method: 'manual',
  });
  const lookups = stack.config.outcomeLookupScheduleMs.length;
  await timeOut('capture', false, lookups);
  expect((await post(`/v1/payments/${manual}/capture`, {})).statusCode).toBe(503);
  expect((await post(`/v1/payments/${manual}/capture`, {})).statusCode).toBe(200);
  await firstRun('payment-v2-capture-lookup-not-made', manual);

  const refunded = await pay('payment-v2-refund-lookup-found', { amount: 1_000, currency: 'USD', source: card });
  await timeOut('refund', true);
  expect((await post(`/v1/payments/${refunded}/refunds`, { amount: 400 })).statusCode).toBe(201);
  await firstRun('payment-v2-refund-lookup-found', refunded);

  await timeOut('authorize', true);
  await timeOut('lookup', false, lookups);
  const attention = await pay('payment-v2-requires-attention', { amount: 1_000, currency: 'USD', source: card });
  const looked = await stack.app.inject({
    method: 'POST',
    url: `/v1/admin/payments/${attention}/lookup`,
    headers: bearer(stack.adminApiKey),
  });
  expect(looked.statusCode).toBe(202);
  await waitFor(
    async () => (await stack.prisma.payment.findUniqueOrThrow({ where: { id: attention } })).status === 'succeeded',
  );
  await firstRun('payment-v2-requires-attention', attention);
  return paths;
}

/**
 * The staging import over two runs (continued as new after two batches of two rows) and a
 * maintenance run with the recorded-payments housekeeping.
 */
async function recordImportPaths(stack: Stack, merchant: { id: string; apiKey: string }) {
  const account = await stack.app.inject({
    method: 'POST',
    url: '/v1/accounts',
    headers: bearer(merchant.apiKey),
    payload: { type: 'customer', currency: 'USD', external_reference: 'LOAN-REPLAY' },
  });
  expect(account.statusCode).toBe(201);
  await stack.prisma.$executeRaw`
    INSERT INTO payment_staging (merchant_id, reference_number, account_reference, amount_minor, currency, paid_at)
    SELECT ${merchant.id}, 'REPLAY-' || (g % 5), 'LOAN-REPLAY', 100, 'USD', now() - interval '1 day'
      FROM generate_series(1, 6) g`;
  const workflowId = `import-record-${Date.now()}`;
  const handle = await stack.temporal.workflow.start('importWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId,
    args: [
      {
        batchSize: 2,
        batchesPerRun: 2,
        limits: { maxAmountMinor: 1_000_000n, maxAgeDays: 365, referenceRetentionDays: 90 },
        merchantIds: [merchant.id],
      },
    ],
  });
  await handle.result();
  const first = (await handle.describe()).raw.workflowExecutionInfo?.firstRunId;
  if (!first) throw new Error('the import has no first run id');
  const maintenance = await stack.temporal.workflow.start('maintenanceWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: `maintenance-records-${Date.now()}`,
    args: [{ idempotencyKeyTtlMs: 24 * 60 * 60 * 1000, maxHoldsExpiredPerRun: 100, recordPartitionsMonthsAhead: 4 }],
  });
  await maintenance.result();
  // Since parallel batches: planned ranges, two at once, over two runs (continue-as-new); since
  // stripes (the fixtures import-stripes-*), two stripes, one batch of each at once.
  await stack.prisma.$executeRaw`
    INSERT INTO payment_staging (merchant_id, reference_number, account_reference, amount_minor, currency, paid_at)
    SELECT ${merchant.id}, 'REPLAY-P-' || (g % 6), 'LOAN-REPLAY', 100, 'USD', now() - interval '1 day'
      FROM generate_series(1, 7) g`;
  const parallelId = `import-parallel-record-${Date.now()}`;
  const parallel = await stack.temporal.workflow.start('importWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: parallelId,
    args: [
      {
        batchSize: 2,
        batchesPerRun: 3,
        parallelBatches: 2,
        limits: { maxAmountMinor: 1_000_000n, maxAgeDays: 365, referenceRetentionDays: 90 },
        merchantIds: [merchant.id],
      },
    ],
  });
  expect(await parallel.result()).toMatchObject({ status: 'succeeded', rows: 7, recorded: 6, duplicates: 1 });
  const parallelFirst = (await parallel.describe()).raw.workflowExecutionInfo?.firstRunId;
  if (!parallelFirst) throw new Error('the parallel import has no first run id');
  // Since the trigger looks for a backlog first: a tick with nothing staged starts nothing.
  const emptyTrigger = await stack.temporal.workflow.start('importTriggerWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: `import-trigger-empty-record-${Date.now()}`,
    args: [
      {
        batchSize: 2,
        batchesPerRun: 3,
        limits: { maxAmountMinor: 1_000_000n, maxAgeDays: 365, referenceRetentionDays: 90 },
        merchantIds: [merchant.id],
        importWorkflowId: `import-never-${Date.now()}`,
      },
    ],
  });
  expect(await emptyTrigger.result()).toEqual({ started: false, nothingStaged: true });
  const paths: [string, string, string?][] = [
    ['import-trigger-nothing-staged', emptyTrigger.workflowId],
    ['import-first-run', workflowId, first],
    ['import-resumed-run', workflowId],
    ['import-parallel-first-run', parallelId, parallelFirst],
    ['import-parallel-resumed-run', parallelId],
    ['import-stripes-first-run', parallelId, parallelFirst],
    ['import-stripes-resumed-run', parallelId],
    ['maintenance-records-housekeeping', maintenance.workflowId],
  ];
  return paths;
}

/** A reconciliation of the day's dollar payments at Stripe, and the schedule's trigger for the day. */
async function recordReconciliationPaths(stack: Stack): Promise<[string, string, string?][]> {
  const date = new Date().toISOString().slice(0, 10);
  const run = await stack.temporal.workflow.start('reconciliationWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: `reconciliation-record-${Date.now()}`,
    args: [{ provider: 'stripe', currency: 'USD', date }],
  });
  await run.result();
  const trigger = await stack.temporal.workflow.start('reconciliationTriggerWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: `reconciliation-trigger-record-${Date.now()}`,
    args: [{ providers: ['stripe', 'paypal'], date }],
  });
  await trigger.result();
  return [
    ['reconciliation-completed', run.workflowId],
    ['reconciliation-trigger', trigger.workflowId],
  ];
}

/**
 * Payouts: paid and returned by the bank (the webhook's signal), paid as a status check learned
 * it, refused at opening (the balance gone), never taken by an unreachable provider (submission
 * out of retries, lookup finds nothing), and the schedule's trigger.
 */
async function recordPayoutPaths(stack: Stack): Promise<[string, string, string?][]> {
  const merchant = await stack.merchant();
  const paid = await stack.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: { ...bearer(merchant.apiKey), 'idempotency-key': 'payout-funds' },
    payload: { amount: 20_000, currency: 'USD', source: { type: 'card', token: 'tok_visa' } },
  });
  expect(paid.statusCode).toBe(201);
  const paymentId = paid.json<{ id: string }>().id;
  await waitFor(async () => (await stack.prisma.payment.findUniqueOrThrow({ where: { id: paymentId } })).settled);
  const slow: PayoutTiming = { submitTimeoutMs: 60_000, lookupTimeoutMs: 60_000, statusPollMs: 60 * 60_000 };
  const start = (name: string, amount: bigint, timing: PayoutTiming) => {
    const input: PayoutInput = {
      payoutId: requestedPayoutId(merchant.id, `${name}-${Date.now()}`),
      merchantId: merchant.id,
      amount,
      currency: 'USD',
      automatic: false,
      description: null,
      provider: 'stripe',
      timing,
    };
    return stack.temporal.workflow.start('payoutWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: input.payoutId,
      args: [input],
    });
  };
  const answered = async (name: string, status: 'paid' | 'failed') => {
    const handle = await start(name, 1_000n, slow);
    let providerPayoutId: string | null = null;
    await waitFor(async () => {
      const row = await stack.prisma.payout.findUnique({ where: { id: handle.workflowId } });
      providerPayoutId = row?.status === 'in_transit' ? row.providerPayoutId : null;
      return providerPayoutId !== null;
    });
    await handle.signal(payoutOutcomeSignal, { status, providerPayoutId: providerPayoutId ?? '' });
    await handle.result();
    return handle.workflowId;
  };
  const paths: [string, string, string?][] = [
    ['payout-paid', await answered('payout-paid', 'paid')],
    ['payout-returned-reversed', await answered('payout-returned', 'failed')],
  ];
  // The simulator pays after 2 s: one status check finds it pending, the next paid.
  const polled = await start('payout-polled', 1_000n, { ...slow, statusPollMs: 1_200 });
  await polled.result();
  paths.push(['payout-polled-paid', polled.workflowId]);
  const refused = await start('payout-refused', 10_000_000n, slow);
  await refused.result();
  paths.push(['payout-insufficient-funds', refused.workflowId]);
  const outage = await stack.sim.inject({ method: 'POST', url: '/admin/faults', payload: { outage_seconds: 3 } });
  expect(outage.statusCode).toBe(200);
  const untaken = await start('payout-untaken', 1_000n, { ...slow, submitTimeoutMs: 1_500 });
  await untaken.result();
  await stack.sim.inject({ method: 'DELETE', url: '/admin/faults' });
  paths.push(['payout-provider-unavailable-released', untaken.workflowId]);
  const trigger = await stack.temporal.workflow.start('payoutTriggerWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: `payout-trigger-record-${Date.now()}`,
    args: [
      {
        merchantIds: [merchant.id],
        defaults: { schedule: 'daily', minimumMinor: 100n },
        provider: 'stripe',
        timing: slow,
        date: new Date().toISOString().slice(0, 10),
      },
    ],
  });
  const { started } = (await trigger.result()) as { started: string[] };
  expect(started).toHaveLength(1);
  paths.push(['payout-trigger', trigger.workflowId]);
  return paths;
}

/** Recording runs in beforeAll, where expect.poll is not available: a bounded poll instead. */
async function waitFor(ready: () => Promise<boolean>, tries = 200, intervalMs = 50): Promise<void> {
  for (let attempt = 0; attempt < tries; attempt++) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error('condition not reached while recording');
}

describe('workflow replay', () => {
  let stack: Stack | undefined;
  beforeAll(async () => {
    if (!recording) return;
    stack = await startStack('record', {
      maxTransferAmountMinor: 500n,
      settlementDelayMs: 100,
      unmatchedRetryMs: 300,
      unmatchedGiveUpMs: 600,
      relayIntervalMs: 50,
      paymentContinueAsNewAfterEvents: 30,
      // A capture that meets a database fault runs out of retries within the recording.
      transferCaptureTimeoutMs: 1_000,
      // A provider step whose answer was lost is looked up three times within a second, and
      // the timeouts that leave it unknown do not open the circuit before the operator's lookup.
      outcomeLookupScheduleMs: [100, 200, 300],
      breakerVolumeThreshold: 1_000,
    });
    await recordPaths(stack);
  });
  afterAll(async () => stack?.close());

  it('replays every recorded history with the current workflow code', async () => {
    const files = (await readdir(fixtures)).filter((file) => file.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThanOrEqual(40);
    const histories = await Promise.all(
      files.map(async (file) => ({
        workflowId: file,
        // Stored as protobufjs' JSON (toJSON) and read back with fromObject: the SDK's
        // proto3-JSON helpers trip over two protobufjs copies when loaded under vitest.
        history: temporal.api.history.v1.History.fromObject(
          JSON.parse(await readFile(path.join(fixtures, file), 'utf8')),
        ),
      })),
    );
    const results = [];
    for await (const result of Worker.runReplayHistories(
      // Through the codec, as production reads histories: the recorded payloads are plaintext,
      // which the codec passes through unchanged.
      {
        workflowBundle: { codePath: inject('workflowBundlePath') },
        dataConverter: createDataConverter(Keyring.parse(inject('encryptionKeys'))),
      },
      histories,
    )) {
      results.push({ workflowId: result.workflowId, error: result.error ? String(result.error) : undefined });
    }
    expect(results).toEqual(files.map((workflowId) => ({ workflowId, error: undefined })));
  });
});
