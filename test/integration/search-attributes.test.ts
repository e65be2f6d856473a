import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import { findTemporalBinary, readDevServerSettings } from '../../src/temporal/dev-server.ts';
import { paymentSettings } from '../../src/api/routes/payments.ts';
import { cardFingerprint } from '../../src/payments/card-fingerprint.ts';
import type { PaymentInput } from '../../src/domain/payment-view.ts';
import type { paymentWorkflowV2 } from '../../workflows/payment.ts';

// What an operator sees of the money workflows in the Temporal Web UI and finds with the CLI:
// each shows its own status as a search attribute (workflows/status-attributes.ts), none shows
// anything personal, and the README's stuck-payments command, run as written against the real
// dev server, finds a payment left waiting and neither a succeeded nor a young one.

const run = promisify(execFile);
const readme = path.resolve(import.meta.dirname, '..', '..', 'README.md');
const poll = { timeout: 20_000, interval: 100 };

let stack: Stack;
let merchant: { id: string; apiKey: string };
let api: ReturnType<typeof paymentsClient>;

beforeAll(async () => {
  stack = await startStack('search-attributes', {
    rateLimitPerSecond: 10_000,
    // Payments settle at once, so a payout has an available balance to take.
    settlementDelayMs: 100,
    // The payout's bank answer is asked for shortly after the simulator has it (payoutArrivalMs).
    payoutTiming: { submitTimeoutMs: 20_000, lookupTimeoutMs: 20_000, statusPollMs: 500 },
    payoutMinimumAmountMinor: 100n,
    maxTransferAmountMinor: 5_000n,
  });
  merchant = await stack.merchant();
  api = paymentsClient(stack, merchant);
});
afterAll(async () => {
  await stack?.close();
});

/**
 * The workflow's search attributes of ours (temporal-config/dev-server.json), as the Web UI and
 * the CLI show them; Temporal's own (BuildIds, TemporalChangeVersion) left out.
 */
async function attributesOf(workflowId: string): Promise<Record<string, unknown>> {
  const ours = Object.keys((await readDevServerSettings()).searchAttributes);
  const described = await stack.temporal.workflow.getHandle(workflowId).describe();
  return Object.fromEntries(Object.entries(described.searchAttributes).filter(([name]) => ours.includes(name)));
}

/** The README's stuck-payments command: the `$T workflow list` line of its runbook. */
async function stuckPaymentsCommand(): Promise<string> {
  const lines = (await readFile(readme, 'utf8')).split('\n');
  const commands = lines.filter((line) => line.startsWith('$T workflow list') && line.includes('PaymentStatus IN'));
  expect(commands).toHaveLength(1);
  return commands[0]!;
}

/** The query of that command with $SINCE set, as the shell passes it. */
function queryOf(command: string, since: string): string {
  const query = /--query "([^"]+)"/.exec(command)?.[1];
  expect(query).toBeDefined();
  return query!.replaceAll('$SINCE', since);
}

/** An instant as `date -u +%Y-%m-%dT%H:%M:%SZ` writes it (whole seconds, as the README's SINCE). */
function wholeSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

describe('a payment in the Web UI', () => {
  it('shows its status at each change and its merchant, amount and currency, never its customer', async () => {
    const created = await api.create({
      amount: 1_250,
      currency: 'USD',
      source: card(),
      capture_method: 'manual',
      customer: 'cus_jane_doe_1987',
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<{ id: string }>().id;
    await expect
      .poll(() => attributesOf(id), poll)
      .toEqual({
        PaymentStatus: ['requires_capture'],
        MerchantId: [merchant.id],
        AmountMinor: [1_250],
        Currency: ['USD'],
      });
    expect((await api.act(id, 'capture')).statusCode).toBe(200);
    await expect.poll(async () => (await attributesOf(id)).PaymentStatus, poll).toEqual(['succeeded']);
    expect(await attributesOf(id)).not.toHaveProperty('CustomerId');
  });

  it('clears a CustomerId that a start before this change set, at its next status change', async () => {
    // Started as POST /v1/payments started payments until CustomerId was dropped from it.
    const paymentId = `pay_old_start_${Date.now()}`;
    const input: PaymentInput = {
      paymentId,
      merchantId: merchant.id,
      amount: 1_300n,
      currency: 'USD',
      captureMethod: 'manual',
      source: { type: 'card', token: 'tok_visa', provider: undefined },
      customer: 'cus_jane_doe_1987',
      description: null,
      metadata: null,
      cardFingerprint: cardFingerprint('tok_visa'),
      createdAt: new Date().toISOString(),
      settings: paymentSettings(stack.config),
    };
    await stack.temporal.workflow.start<typeof paymentWorkflowV2>('paymentWorkflowV2', {
      workflowId: paymentId,
      taskQueue: stack.taskQueue,
      args: [input],
      searchAttributes: {
        PaymentStatus: ['processing'],
        MerchantId: [merchant.id],
        CustomerId: ['cus_jane_doe_1987'],
        AmountMinor: [1_300],
        Currency: ['USD'],
      },
    });
    await expect
      .poll(() => attributesOf(paymentId), poll)
      .toEqual({
        PaymentStatus: ['requires_capture'],
        MerchantId: [merchant.id],
        AmountMinor: [1_300],
        Currency: ['USD'],
      });
    expect((await api.act(paymentId, 'cancel')).statusCode).toBe(200);
    await expect.poll(async () => (await attributesOf(paymentId)).PaymentStatus, poll).toEqual(['canceled']);
  });
});

describe("the README's stuck-payments command", () => {
  it('finds a payment waiting since before the threshold, not a succeeded one nor one started after it', async () => {
    const command = await stuckPaymentsCommand();
    const stuck = await api.create({ amount: 700, currency: 'USD', source: card(), capture_method: 'manual' });
    const succeeded = await api.create({ amount: 800, currency: 'USD', source: card() });
    expect(stuck.json()).toMatchObject({ status: 'requires_capture' });
    expect(succeeded.json()).toMatchObject({ status: 'succeeded' });
    // SINCE has whole seconds: the next one after both started. The young payment starts
    // after it, so only the clock can be waited for here.
    const thresholdMs = Math.ceil((Date.now() + 1) / 1_000) * 1_000;
    await new Promise((resolve) => setTimeout(resolve, thresholdMs + 50 - Date.now()));
    const young = await api.create({ amount: 900, currency: 'USD', source: card(), capture_method: 'manual' });
    expect(young.json()).toMatchObject({ status: 'requires_capture' });
    const [stuckId, succeededId, youngId] = [stuck, succeeded, young].map((response) => response.json().id as string);
    const since = wholeSeconds(thresholdMs);

    // The SDK's list with the command's query, as a script or the Web UI's filter would send it.
    const listed = async () => {
      const ids: string[] = [];
      for await (const execution of stack.temporal.workflow.list({ query: queryOf(command, since) })) {
        ids.push(execution.workflowId);
      }
      return ids;
    };
    await expect.poll(listed, poll).toContain(stuckId);
    expect(await listed()).not.toContain(succeededId);
    expect(await listed()).not.toContain(youngId);

    // The command itself, through a shell as the README shows it, against the same dev server.
    const binary = await findTemporalBinary();
    expect(binary, 'the Temporal CLI (on PATH or in .tools/) that the dev server runs from').toBeDefined();
    const shellCommand = `${command.replace('--address 127.0.0.1:7233', `--address ${inject('temporalAddress')}`)} --output json`;
    expect(shellCommand).not.toBe(`${command} --output json`);
    const { stdout } = await run('sh', ['-c', shellCommand], {
      env: { ...process.env, T: binary!, SINCE: since },
      maxBuffer: 64 * 1024 * 1024,
    });
    const found = [...stdout.matchAll(/"workflowId":\s*"([^"]+)"/g)].map((match) => match[1]);
    expect(found).toContain(stuckId);
    expect(found).not.toContain(succeededId);
    expect(found).not.toContain(youngId);
  });
});

describe("the README's runbook", () => {
  it('has every query of its Temporal CLI lines accepted by the dev server', async () => {
    const text = await readFile(readme, 'utf8');
    const lines = text.split('\n').filter((line) => /^\$T workflow (list|count) .*--query "/.test(line));
    // The stuck-payments command and its companions, and the count that says when CustomerId can go.
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(text).toContain('temporal workflow count --query "CustomerId IS NOT NULL"');
    lines.push('$T workflow count --address 127.0.0.1:7233 --query "CustomerId IS NOT NULL"');
    const binary = await findTemporalBinary();
    expect(binary).toBeDefined();
    for (const line of lines) {
      const command = line.replace('--address 127.0.0.1:7233', `--address ${inject('temporalAddress')}`);
      const { stderr } = await run('sh', ['-c', command], {
        env: { ...process.env, T: binary!, SINCE: wholeSeconds(Date.now()) },
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(stderr, line).toBe('');
    }
  });
});

describe('payouts and transfers in the Web UI', () => {
  it('a payout ends showing PayoutStatus paid, with its merchant, amount and currency', async () => {
    const wallet = await api.openAccount();
    await api.deposit(wallet, 10_000);
    const payment = await api.create({
      amount: 10_000,
      currency: 'USD',
      source: { type: 'wallet', account_id: wallet },
    });
    expect(payment.statusCode, payment.body).toBe(201);
    await expect.poll(async () => (await api.get(payment.json().id)).settled, poll).toBe(true);

    const created = await stack.app.inject({
      method: 'POST',
      url: '/v1/payouts',
      headers: { ...bearer(merchant.apiKey), 'idempotency-key': 'payout-shown' },
      payload: { currency: 'USD', amount: 2_000 },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<{ id: string }>().id;
    await expect
      .poll(() => attributesOf(id), poll)
      .toEqual({
        PayoutStatus: ['paid'],
        MerchantId: [merchant.id],
        AmountMinor: [2_000],
        Currency: ['USD'],
      });
    const paid = await stack.app.inject({ method: 'GET', url: `/v1/payouts/${id}`, headers: bearer(merchant.apiKey) });
    expect(paid.json()).toMatchObject({ status: 'paid' });
  });

  it('a transfer shows TransferStatus succeeded, or failed when risk blocks it', async () => {
    const from = await api.openAccount();
    const to = await api.openAccount();
    await api.deposit(from, 10_000);
    const transfer = (amount: number, key: string) =>
      stack.app.inject({
        method: 'POST',
        url: '/v1/transfers',
        headers: { ...bearer(merchant.apiKey), 'idempotency-key': key },
        payload: { from_account_id: from, to_account_id: to, amount, currency: 'USD' },
      });
    const succeeded = await transfer(1_000, 'shown-succeeded');
    expect(succeeded.json()).toMatchObject({ status: 'succeeded' });
    // Over maxTransferAmountMinor: blocked, its hold released.
    const blocked = await transfer(6_000, 'shown-blocked');
    expect(blocked.json()).toMatchObject({ status: 'failed', failure_code: 'transfer_blocked' });
    const base = { MerchantId: [merchant.id], Currency: ['USD'] };
    await expect
      .poll(() => attributesOf(`transfer:${merchant.id}:shown-succeeded`), poll)
      .toEqual({ ...base, TransferStatus: ['succeeded'], AmountMinor: [1_000] });
    await expect
      .poll(() => attributesOf(`transfer:${merchant.id}:shown-blocked`), poll)
      .toEqual({ ...base, TransferStatus: ['failed'], AmountMinor: [6_000] });
  });
});
