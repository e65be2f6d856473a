import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startStack, type Stack } from '../support/stack.ts';
import { paymentsClient } from '../support/payments.ts';
import { failCompletionsFrom } from '../support/transfer-faults.ts';
import { fund, openAccount as openLedgerAccount } from '../support/ledger-fixtures.ts';
import { captureHold, placeHold } from '../../src/ledger/ledger.ts';
import { expireDueHolds } from '../../src/ledger/hold-sweep.ts';
import { walletHoldExpiryMs } from '../../src/domain/hold-expiry.ts';
import { newId } from '../../src/ids.ts';
import type { maintenanceWorkflow } from '../../workflows/maintenance.ts';
import type { TransferView } from '../../activities/transfers.ts';

// Holds that outlive their transfer: a capture out of retries compensates, holds expire, and the
// maintenance run sweeps expired ones. A capture is retried for 8 s here (attempts at about 0,
// 0.2, 0.6, 1.4, 3 and 6.2 s), so a test can act between two attempts.

const captureTimeoutMs = 8_000;
const holdExpiryMs = 60_000;

let stack: Stack;
let merchant: { id: string; apiKey: string };
let api: ReturnType<typeof paymentsClient>;
beforeAll(async () => {
  stack = await startStack('hold-expiry', {
    transferCaptureTimeoutMs: captureTimeoutMs,
    transferHoldExpiryMs: holdExpiryMs,
    authorizationExpiryMs: 600_000,
    // POST /v1/transfers answers 202 while a capture still retries; the tests await the workflow.
    depositWaitMs: 1_000,
  });
  merchant = await stack.merchant();
  api = paymentsClient(stack, merchant);
});
afterAll(async () => stack?.close());

/** Starts a transfer through the API; `result` is its workflow's end, however long its capture retries. */
async function transfer(from: string, to: string, amount: number): Promise<{ id: string; result: Promise<unknown> }> {
  const key = `hold-expiry-${randomUUID()}`;
  const response = await stack.app.inject({
    method: 'POST',
    url: '/v1/transfers',
    headers: { ...bearer(merchant.apiKey), 'idempotency-key': key },
    payload: { from_account_id: from, to_account_id: to, amount, currency: 'USD' },
  });
  expect([201, 202]).toContain(response.statusCode);
  const result = stack.temporal.workflow
    .getHandle<() => Promise<TransferView>>(`transfer:${merchant.id}:${key}`)
    .result();
  return { id: response.json<{ id: string }>().id, result };
}

async function getTransfer(id: string) {
  const response = await stack.app.inject({
    method: 'GET',
    url: `/v1/transfers/${id}`,
    headers: bearer(merchant.apiKey),
  });
  expect(response.statusCode).toBe(200);
  return response.json();
}

async function holdOf(reference: string) {
  return stack.prisma.hold.findUniqueOrThrow({ where: { reference } });
}

async function ledgerBalances(accountId: string) {
  const account = await stack.prisma.account.findUniqueOrThrow({ where: { id: accountId } });
  return { balance: account.balance, held: account.held, available: account.balance - account.held };
}

describe('a transfer whose capture fails for a reason that is no business answer', () => {
  it('ends failed once the capture is out of retries, with its hold released and nothing moved', async () => {
    const from = await api.openAccount();
    const to = await api.openAccount();
    await fund(stack.prisma, from, 1_000n);
    const endFault = await failCompletionsFrom(stack.prisma, from);
    try {
      const started = await transfer(from, to, 400);
      await started.result;
    } finally {
      await endFault();
    }
    const [row] = await stack.prisma.transfer.findMany({ where: { fromAccountId: from } });
    if (!row) throw new Error('no transfer recorded');
    expect(await getTransfer(row.id)).toMatchObject({
      status: 'failed',
      failure_code: 'service_unavailable',
      failure_message: 'The transfer could not be completed; nothing was moved. Retry it with a new Idempotency-Key.',
      transaction_id: null,
    });
    expect((await holdOf(row.id)).status).toBe('released');
    expect(await api.account(from)).toMatchObject({ balance: 1_000, held: 0, available: 1_000 });
    expect(await api.account(to)).toMatchObject({ balance: 0, held: 0, available: 0 });
    const events = await stack.prisma.event.findMany({ where: { resourceId: row.id }, select: { type: true } });
    expect(events.map((event) => event.type)).toEqual(['transfer.failed']);
  });

  it('ends failed when its hold expired and was swept before the capture got through', async () => {
    const from = await api.openAccount();
    const to = await api.openAccount();
    await fund(stack.prisma, from, 1_000n);
    const endFault = await failCompletionsFrom(stack.prisma, from);
    const started = await transfer(from, to, 300).catch(async (error: unknown) => {
      await endFault();
      throw error;
    });
    try {
      await expect
        .poll(async () => (await stack.prisma.hold.findUnique({ where: { reference: started.id } }))?.status)
        .toBe('active');
      // Time passes for the hold while its capture is retrying: it falls due and the sweep ends it
      // (in one database transaction, so no capture attempt slips in between).
      await stack.prisma.$transaction(async (tx) => {
        await tx.hold.update({ where: { reference: started.id }, data: { expiresAt: new Date(Date.now() - 1_000) } });
        await expireDueHolds(tx, { limit: 100 });
      });
      expect((await holdOf(started.id)).status).toBe('expired');
      expect(await api.account(from)).toMatchObject({ balance: 1_000, held: 0, available: 1_000 });
    } finally {
      await endFault();
    }
    // The next attempt reaches the expired hold: refused cleanly, the transfer fails.
    await started.result;
    expect(await getTransfer(started.id)).toMatchObject({
      status: 'failed',
      failure_code: 'hold_unexpected_state',
      transaction_id: null,
    });
    expect((await holdOf(started.id)).status).toBe('expired');
    expect(await api.account(from)).toMatchObject({ balance: 1_000, held: 0, available: 1_000 });
    expect(await api.account(to)).toMatchObject({ balance: 0 });
    expect(await stack.prisma.ledgerTransaction.count({ where: { reference: started.id } })).toBe(0);
  });
});

describe('hold expiry', () => {
  it("stamps a transfer's hold with TRANSFER_HOLD_EXPIRY_MS and a wallet payment's with the authorization expiry plus the forward-recovery window", async () => {
    const from = await api.openAccount();
    const to = await api.openAccount();
    await fund(stack.prisma, from, 1_000n);
    const before = Date.now();
    const started = await transfer(from, to, 100);
    await started.result;
    const transferHold = await holdOf(started.id);
    expect(transferHold.status).toBe('captured');
    expect(transferHold.expiresAt?.getTime()).toBeGreaterThanOrEqual(before + holdExpiryMs);
    expect(transferHold.expiresAt?.getTime()).toBeLessThanOrEqual(Date.now() + holdExpiryMs);

    const placed = Date.now();
    const payment = await api.create({
      amount: 200,
      currency: 'USD',
      capture_method: 'manual',
      source: { type: 'wallet', account_id: from },
    });
    expect(payment.json()).toMatchObject({ status: 'requires_capture' });
    const walletHold = await holdOf(payment.json<{ id: string }>().id);
    const lifetimeMs = walletHoldExpiryMs(600_000);
    expect(lifetimeMs).toBe(600_000 + 7 * 24 * 60 * 60 * 1000);
    expect(walletHold.expiresAt?.getTime()).toBeGreaterThanOrEqual(placed + lifetimeMs);
    expect(walletHold.expiresAt?.getTime()).toBeLessThanOrEqual(Date.now() + lifetimeMs);
    // The merchant can still capture it: the hold outlives the authorization.
    const captured = await api.act(payment.json<{ id: string }>().id, 'capture', { amount: 200 });
    expect(captured.json()).toMatchObject({ status: 'succeeded', amount_captured: 200 });
    expect(await api.account(from)).toMatchObject({ balance: 700, held: 0, available: 700 });
  });

  it('refuses to capture a hold past its expiry, swept or not, and moves nothing', async () => {
    const account = await openLedgerAccount(stack.prisma);
    const target = await openLedgerAccount(stack.prisma);
    await fund(stack.prisma, account, 500n);
    const capture = (reference: string) =>
      captureHold(stack.prisma, reference, 100n, {
        kind: 'transfer',
        idempotencyKey: `${reference}:capture`,
        entries: [
          { accountId: account, amount: -100n },
          { accountId: target, amount: 100n },
        ],
      });
    const due = newId('hold');
    await placeHold(stack.prisma, {
      accountId: account,
      amount: 100n,
      reference: due,
      expiresAt: new Date(Date.now() - 1),
    });
    await expect(capture(due)).rejects.toMatchObject({ code: 'hold_unexpected_state' });
    expect((await holdOf(due)).status).toBe('active');
    await expireDueHolds(stack.prisma, { limit: 100 });
    await expect(capture(due)).rejects.toMatchObject({ code: 'hold_unexpected_state' });
    expect((await holdOf(due)).status).toBe('expired');
    expect(await stack.prisma.ledgerTransaction.count({ where: { reference: due } })).toBe(0);
    expect(await ledgerBalances(account)).toEqual({ balance: 500n, held: 0n, available: 500n });
    expect(await ledgerBalances(target)).toEqual({ balance: 0n, held: 0n, available: 0n });
  });
});

describe('the expired-hold sweep of the maintenance run', () => {
  const runMaintenance = (maxHoldsExpiredPerRun: number) =>
    stack.temporal.workflow.execute<typeof maintenanceWorkflow>('maintenanceWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: `maintenance-hold-expiry-${randomUUID()}`,
      args: [{ idempotencyKeyTtlMs: 24 * 60 * 60 * 1000, maxHoldsExpiredPerRun }],
    });

  it('releases expired holds, the longest overdue first and a bounded number per run, and changes nothing when run again', async () => {
    const account = await openLedgerAccount(stack.prisma);
    await fund(stack.prisma, account, 1_000n);
    const hold = async (amount: bigint, expiresAt: Date | undefined) => {
      const reference = newId('hold');
      await placeHold(stack.prisma, { accountId: account, amount, reference, expiresAt });
      return reference;
    };
    // Expired long ago, so no hold another test leaves due comes before them.
    const oldest = await hold(100n, new Date('2000-01-01T00:00:00Z'));
    const older = await hold(200n, new Date('2000-01-02T00:00:00Z'));
    const old = await hold(300n, new Date('2000-01-03T00:00:00Z'));
    const future = await hold(50n, new Date(Date.now() + 60 * 60 * 1000));
    const never = await hold(25n, undefined);
    expect(await ledgerBalances(account)).toEqual({ balance: 1_000n, held: 675n, available: 325n });
    const statuses = async () =>
      Promise.all([oldest, older, old, future, never].map(async (reference) => (await holdOf(reference)).status));

    const first = await runMaintenance(2);
    expect(first).toMatchObject({ expiredHolds: 2, ledgerDiscrepancies: 0 });
    expect(await statuses()).toEqual(['expired', 'expired', 'active', 'active', 'active']);
    expect(await ledgerBalances(account)).toEqual({ balance: 1_000n, held: 375n, available: 625n });

    const second = await runMaintenance(100);
    expect(second.expiredHolds).toBeGreaterThanOrEqual(1);
    expect(second.ledgerDiscrepancies).toBe(0);
    expect(await statuses()).toEqual(['expired', 'expired', 'expired', 'active', 'active']);
    expect(await ledgerBalances(account)).toEqual({ balance: 1_000n, held: 75n, available: 925n });

    await runMaintenance(100);
    expect(await statuses()).toEqual(['expired', 'expired', 'expired', 'active', 'active']);
    expect(await ledgerBalances(account)).toEqual({ balance: 1_000n, held: 75n, available: 925n });
    const swept = await stack.prisma.hold.findMany({ where: { reference: { in: [oldest, older, old] } } });
    expect(swept.map((row) => row.capturedAmount)).toEqual([null, null, null]);
    expect(await stack.prisma.ledgerEntry.count({ where: { accountId: account } })).toBe(1);
  });

  it('ends each due hold once when two sweeps run at the same time', async () => {
    const account = await openLedgerAccount(stack.prisma);
    await fund(stack.prisma, account, 1_000n);
    const references = Array.from({ length: 10 }, () => newId('hold'));
    for (const reference of references) {
      await placeHold(stack.prisma, {
        accountId: account,
        amount: 10n,
        reference,
        expiresAt: new Date(Date.now() - 1),
      });
    }
    const [a, b] = await Promise.all([
      expireDueHolds(stack.prisma, { limit: 100 }),
      expireDueHolds(stack.prisma, { limit: 100 }),
    ]);
    const rows = await stack.prisma.hold.findMany({ where: { reference: { in: references } } });
    expect(rows.map((row) => row.status)).toEqual(references.map(() => 'expired'));
    expect(a.expired + b.expired).toBeGreaterThanOrEqual(10);
    expect(await ledgerBalances(account)).toEqual({ balance: 1_000n, held: 0n, available: 1_000n });
  });

  it('leaves the books healthy', async () => {
    const report = await stack.app.inject({
      method: 'GET',
      url: '/v1/ledger/integrity',
      headers: bearer(stack.adminApiKey),
    });
    expect(report.json()).toMatchObject({ object: 'ledger_integrity', healthy: true, discrepancies: [] });
  });
});
