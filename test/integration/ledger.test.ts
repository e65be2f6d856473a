import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { inject } from 'vitest';
import { PaymentsError } from '../../src/domain/errors.ts';
import { balance, captureHold, entries, placeHold, post, releaseHold } from '../../src/ledger/ledger.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { idTimePart, newId } from '../../src/ids.ts';
import { connectPrisma, fund, openAccount } from '../support/ledger-fixtures.ts';

const prisma = connectPrisma(30);
afterAll(async () => prisma.$disconnect());

function transfer(from: string, to: string, amount: bigint, key = newId('txn')) {
  return post(prisma, {
    kind: 'transfer',
    idempotencyKey: key,
    entries: [
      { accountId: from, amount: -amount },
      { accountId: to, amount },
    ],
  });
}

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof PaymentsError) return error.code;
    throw error;
  }
}

describe('ledger under concurrency', () => {
  it('lets exactly 150 of 200 concurrent 1-unit transfers out of 150 succeed; never negative', async () => {
    const source = await openAccount(prisma);
    const sink = await openAccount(prisma);
    await fund(prisma, source, 150n);

    const results = await Promise.all(Array.from({ length: 200 }, () => outcome(transfer(source, sink, 1n))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(150);
    expect(results.filter((r) => r === 'insufficient_funds')).toHaveLength(50);

    expect(await balance(prisma, source)).toBe(0n);
    expect(await balance(prisma, sink)).toBe(150n);
    const sourceEntries = await prisma.ledgerEntry.findMany({ where: { accountId: source } });
    expect(sourceEntries).toHaveLength(151);
    expect(sourceEntries.every((entry) => entry.balanceAfter >= 0n)).toBe(true);
  });

  it('lets exactly 150 of 200 concurrent 1-unit holds succeed and captures them all', async () => {
    const source = await openAccount(prisma);
    const sink = await openAccount(prisma);
    await fund(prisma, source, 150n);

    const references = Array.from({ length: 200 }, () => newId('hold'));
    const holds = await Promise.all(
      references.map((reference) => outcome(placeHold(prisma, { accountId: source, amount: 1n, reference }))),
    );
    expect(holds.filter((r) => r === 'ok')).toHaveLength(150);
    expect(holds.filter((r) => r === 'insufficient_funds')).toHaveLength(50);
    const account = await prisma.account.findUniqueOrThrow({ where: { id: source } });
    expect([account.balance, account.held]).toEqual([150n, 150n]);

    const held = references.filter((_, index) => holds[index] === 'ok');
    const captures = await Promise.all(
      held.map((reference) =>
        outcome(
          captureHold(prisma, reference, 1n, {
            kind: 'transfer',
            idempotencyKey: `${reference}:capture`,
            entries: [
              { accountId: source, amount: -1n },
              { accountId: sink, amount: 1n },
            ],
          }),
        ),
      ),
    );
    expect(captures.every((r) => r === 'ok')).toBe(true);
    const after = await prisma.account.findUniqueOrThrow({ where: { id: source } });
    expect([after.balance, after.held]).toEqual([0n, 0n]);
    expect(await balance(prisma, sink)).toBe(150n);
  });

  it('completes 100 transfers A→B and 100 B→A at once without deadlock', async () => {
    const a = await openAccount(prisma);
    const b = await openAccount(prisma);
    await fund(prisma, a, 1_000n);
    await fund(prisma, b, 1_000n);
    const results = await Promise.all([
      ...Array.from({ length: 100 }, () => outcome(transfer(a, b, 3n))),
      ...Array.from({ length: 100 }, () => outcome(transfer(b, a, 2n))),
    ]);
    expect(results.every((r) => r === 'ok')).toBe(true);
    expect(await balance(prisma, a)).toBe(1_000n - 300n + 200n);
    expect(await balance(prisma, b)).toBe(1_000n + 300n - 200n);
  });

  it('posts one transaction when the same post is fired 20 times concurrently', async () => {
    const a = await openAccount(prisma);
    const b = await openAccount(prisma);
    await fund(prisma, a, 100n);
    const key = newId('txn');
    const results = await Promise.all(Array.from({ length: 20 }, () => transfer(a, b, 7n, key)));
    expect(new Set(results.map((r) => r.transactionId)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await prisma.ledgerTransaction.count({ where: { idempotencyKey: key } })).toBe(1);
    expect(await balance(prisma, a)).toBe(93n);
    expect(await balance(prisma, b)).toBe(7n);
  });
});

describe('holds', () => {
  it('reserves available funds, captures part and returns the rest', async () => {
    const customer = await openAccount(prisma);
    const merchant = await openAccount(prisma, 'USD', 'merchant');
    await fund(prisma, customer, 1_000n);
    const reference = newId('hold');
    await placeHold(prisma, { accountId: customer, amount: 600n, reference });
    expect(await outcome(placeHold(prisma, { accountId: customer, amount: 401n, reference: newId('hold') }))).toBe(
      'insufficient_funds',
    );
    let account = await prisma.account.findUniqueOrThrow({ where: { id: customer } });
    expect([account.balance, account.held]).toEqual([1_000n, 600n]);

    const posting = {
      kind: 'payment_capture',
      idempotencyKey: `${reference}:capture`,
      entries: [
        { accountId: customer, amount: -450n },
        { accountId: merchant, amount: 450n },
      ],
    };
    await expect(captureHold(prisma, reference, 601n, posting)).rejects.toMatchObject({ code: 'amount_too_large' });
    const first = await captureHold(prisma, reference, 450n, posting);
    const again = await captureHold(prisma, reference, 450n, posting);
    expect(again).toEqual({ transactionId: first.transactionId, replayed: true });

    account = await prisma.account.findUniqueOrThrow({ where: { id: customer } });
    expect([account.balance, account.held]).toEqual([550n, 0n]);
    const hold = await prisma.hold.findUniqueOrThrow({ where: { reference } });
    expect([hold.status, hold.capturedAmount]).toEqual(['captured', 450n]);
    await expect(releaseHold(prisma, reference)).rejects.toMatchObject({ code: 'hold_unexpected_state' });
  });

  it('releases idempotently and refuses to capture a released hold', async () => {
    const customer = await openAccount(prisma);
    const other = await openAccount(prisma);
    await fund(prisma, customer, 100n);
    const reference = newId('hold');
    expect(await placeHold(prisma, { accountId: customer, amount: 80n, reference })).toMatchObject({ replayed: false });
    expect(await placeHold(prisma, { accountId: customer, amount: 80n, reference })).toMatchObject({ replayed: true });
    expect(await releaseHold(prisma, reference)).toMatchObject({ replayed: false });
    expect(await releaseHold(prisma, reference)).toMatchObject({ replayed: true });
    const account = await prisma.account.findUniqueOrThrow({ where: { id: customer } });
    expect([account.balance, account.held]).toEqual([100n, 0n]);
    await expect(
      captureHold(prisma, reference, 80n, {
        kind: 'transfer',
        idempotencyKey: `${reference}:capture`,
        entries: [
          { accountId: customer, amount: -80n },
          { accountId: other, amount: 80n },
        ],
      }),
    ).rejects.toMatchObject({ code: 'hold_unexpected_state' });
  });
});

describe('time travel and audit', () => {
  it('answers the balance as of any instant and pages entries newest first', async () => {
    const account = await openAccount(prisma);
    await fund(prisma, account, 100n);
    const afterFirst = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await fund(prisma, account, 50n);
    await fund(prisma, account, 25n);

    expect(await balance(prisma, account, { at: new Date(afterFirst.getTime() - 60_000) })).toBe(0n);
    expect(await balance(prisma, account, { at: afterFirst })).toBe(100n);
    expect(await balance(prisma, account, { at: new Date() })).toBe(175n);

    const first = await entries(prisma, account, { limit: 2 });
    expect(first.data.map((entry) => entry.amount)).toEqual([25n, 50n]);
    expect(first.hasMore).toBe(true);
    const second = await entries(prisma, account, { limit: 2, startingAfter: first.data[1]?.id });
    expect(second.data.map((entry) => entry.amount)).toEqual([100n]);
    expect(second.hasMore).toBe(false);
  });
});

describe('database-enforced invariants', () => {
  async function withClient<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: inject('databaseUrl') });
    await client.connect();
    try {
      return await run(client);
    } finally {
      await client.end();
    }
  }

  it('rejects UPDATE and DELETE of ledger entries', async () => {
    const account = await openAccount(prisma);
    await fund(prisma, account, 10n);
    await withClient(async (client) => {
      await expect(
        client.query('UPDATE ledger_entries SET amount = 11 WHERE account_id = $1', [account]),
      ).rejects.toThrow(/append-only: UPDATE rejected/);
      await expect(client.query('DELETE FROM ledger_entries WHERE account_id = $1', [account])).rejects.toThrow(
        /append-only: DELETE rejected/,
      );
    });
    expect(await prisma.ledgerEntry.count({ where: { accountId: account } })).toBe(1);
  });

  it('rejects at once an INSERT whose entries do not balance, and a transaction split into unbalanced statements', async () => {
    const account = await openAccount(prisma);
    const other = await openAccount(prisma);
    const txn = newId('txn');
    await withClient(async (client) => {
      const insertEntry = (id: string, accountId: string, amount: number) =>
        client.query(
          `INSERT INTO ledger_entries (id, transaction_id, account_id, amount, currency, balance_after, sequence)
           VALUES ($1, $2, $3, $4, 'USD', $4, 1)`,
          [id, txn, accountId, amount],
        );
      await client.query('BEGIN');
      await client.query(`INSERT INTO ledger_transactions (id, kind, idempotency_key) VALUES ($1, 'manual', $1)`, [
        txn,
      ]);
      // Each statement must balance by itself: a credit now and its debit later is refused.
      await expect(insertEntry(newId('ent'), account, 500)).rejects.toThrow(/unbalanced in USD/);
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      await client.query(`INSERT INTO ledger_transactions (id, kind, idempotency_key) VALUES ($1, 'manual', $1)`, [
        txn,
      ]);
      await expect(
        client.query(
          `INSERT INTO ledger_entries (id, transaction_id, account_id, amount, currency, balance_after, sequence)
           VALUES ($1, $3, $4, 500, 'USD', 500, 1), ($2, $3, $5, -400, 'USD', -400, 1)`,
          [newId('ent'), newId('ent'), txn, account, other],
        ),
      ).rejects.toThrow(/unbalanced in USD/);
      await client.query('ROLLBACK');
    });
    expect(await prisma.ledgerTransaction.count({ where: { id: txn } })).toBe(0);
    expect(await prisma.ledgerEntry.count({ where: { accountId: { in: [account, other] } } })).toBe(0);
  });

  it('rejects entries whose transaction or account does not exist, and events of no merchant, per statement', async () => {
    const account = await openAccount(prisma);
    const other = await openAccount(prisma);
    const txn = newId('txn');
    await withClient(async (client) => {
      const insertPair = (transactionId: string, first: string, currency = 'USD') =>
        client.query(
          `INSERT INTO ledger_entries (id, transaction_id, account_id, amount, currency, balance_after, sequence)
           VALUES ($1, $3, $4, 500, $6, 500, 1), ($2, $3, $5, -500, $6, -500, 1)`,
          [newId('ent'), newId('ent'), transactionId, first, other, currency],
        );
      await expect(insertPair(txn, account)).rejects.toMatchObject({
        code: '23503',
        message: `ledger entry refers to transaction ${txn}, which does not exist`,
      });
      await client.query('BEGIN');
      await client.query(`INSERT INTO ledger_transactions (id, kind, idempotency_key) VALUES ($1, 'manual', $1)`, [
        txn,
      ]);
      await expect(insertPair(txn, 'acct_missing')).rejects.toMatchObject({
        code: '23503',
        message: 'ledger entry refers to account acct_missing in USD, which does not exist',
      });
      await client.query('ROLLBACK');
    });
    expect(await prisma.ledgerEntry.count({ where: { accountId: { in: [account, other] } } })).toBe(0);
    await withClient(async (client) => {
      await expect(
        client.query(
          `INSERT INTO events (id, merchant_id, type, resource_id, data, source_key)
           VALUES ($1, 'mer_missing', 'payment.created', 'pay_x', '{}', $1)`,
          [newId('evt')],
        ),
      ).rejects.toMatchObject({ code: '23503', message: 'event refers to merchant mer_missing, which does not exist' });
    });
  });

  it('never lets a ledger transaction, an account or a merchant lose its key', async () => {
    const account = await openAccount(prisma);
    await fund(prisma, account, 10n);
    const row = await prisma.account.findUniqueOrThrow({ where: { id: account } });
    const entry = await prisma.ledgerEntry.findFirstOrThrow({ where: { accountId: account } });
    await withClient(async (client) => {
      const refused = (sql: string, params: unknown[], table: string) =>
        expect(client.query(sql, params)).rejects.toMatchObject({
          code: '23001',
          message: expect.stringContaining(`of ${table} rejected`),
        });
      await refused('DELETE FROM ledger_transactions WHERE id = $1', [entry.transactionId], 'ledger_transactions');
      await refused(
        `UPDATE ledger_transactions SET reference = 'x' WHERE id = $1`,
        [entry.transactionId],
        'ledger_transactions',
      );
      await refused('TRUNCATE ledger_transactions CASCADE', [], 'ledger_transactions');
      await refused('DELETE FROM accounts WHERE id = $1', [account], 'accounts');
      await refused(`UPDATE accounts SET currency = 'EUR' WHERE id = $1`, [account], 'accounts');
      await refused(`UPDATE accounts SET id = 'acct_renamed' WHERE id = $1`, [account], 'accounts');
      await refused('TRUNCATE accounts CASCADE', [], 'accounts');
      if (row.merchantId) {
        await refused('DELETE FROM merchants WHERE id = $1', [row.merchantId], 'merchants');
        await refused(`UPDATE merchants SET id = 'mer_renamed' WHERE id = $1`, [row.merchantId], 'merchants');
      }
      await refused('TRUNCATE merchants CASCADE', [], 'merchants');
      // What may change still does.
      await client.query(`UPDATE accounts SET reference = 'renamed' WHERE id = $1`, [account]);
    });
    expect(await balance(prisma, account)).toBe(10n);
  });

  it('makes ids in PostgreSQL with the same time part as the application', async () => {
    const instants = [0, 61, 62, 1_700_000_000_123, Date.UTC(2026, 11, 6, 10, 0, 0, 999), 62 ** 8 - 1];
    const isoInstants = instants.map((ms) => new Date(ms).toISOString());
    const rows = await prisma.$queryRaw<{ part: string }[]>`
      SELECT id_time_part(at) AS part FROM unnest(${isoInstants}::timestamptz[]) WITH ORDINALITY AS t(at, n) ORDER BY n`;
    expect(rows.map((r) => r.part)).toEqual(instants.map(idTimePart));
    const before = Date.now();
    const [made] = await prisma.$queryRaw<{ id: string }[]>`SELECT new_id('evt') AS id`;
    const after = Date.now();
    expect(made?.id).toMatch(/^evt_[0-9A-Za-z]{22}$/);
    const part = made?.id.slice(4, 12) ?? '';
    expect(part >= idTimePart(before) && part <= idTimePart(after)).toBe(true);
  });

  it('rejects an entry in another currency than its account', async () => {
    const usd = await openAccount(prisma, 'USD');
    const eur = await openAccount(prisma, 'EUR');
    await fund(prisma, usd, 10n);
    await expect(transfer(usd, eur, 5n)).rejects.toMatchObject({ code: 'currency_mismatch' });
  });

  it('finds tampering with a cached balance', async () => {
    const account = await openAccount(prisma);
    await fund(prisma, account, 42n);
    const found = await prisma
      .$transaction(async (tx) => {
        await tx.$executeRaw`UPDATE accounts SET balance = balance + 1 WHERE id = ${account}`;
        const discrepancies = await reconcile(tx);
        throw Object.assign(new Error('rollback'), { discrepancies });
      })
      .catch((error: { discrepancies?: unknown }) => error.discrepancies);
    expect(found).toContainEqual({ kind: 'balance_mismatch', accountId: account, cached: 43n, fromEntries: 42n });
    expect(await reconcile(prisma)).toEqual([]);
  });
});
