import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PaymentsError } from '../../src/domain/errors.ts';
import { captureHold, placeHold, post, releaseHold } from '../../src/ledger/ledger.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { newId } from '../../src/ids.ts';
import { connectPrisma, fund, openAccount } from '../support/ledger-fixtures.ts';

// Random sequences of deposits, holds, captures, releases and transfers over five accounts in
// two currencies, checked against a model kept in memory: after every sequence each account's
// balance and held equal the model, and the reconciliation check finds nothing.

const prisma = connectPrisma(10);
afterAll(async () => prisma.$disconnect());

const currencies = ['USD', 'USD', 'USD', 'EUR', 'EUR'] as const;
const accountIndex = fc.integer({ min: 0, max: currencies.length - 1 });
const amount = fc.bigInt({ min: 1n, max: 400n });

type Command =
  | { op: 'deposit'; account: number; amount: bigint }
  | { op: 'transfer'; from: number; to: number; amount: bigint }
  | { op: 'hold'; account: number; amount: bigint }
  | { op: 'capture'; hold: number; percent: number; to: number }
  | { op: 'release'; hold: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('deposit' as const), account: accountIndex, amount }),
  fc.record({ op: fc.constant('transfer' as const), from: accountIndex, to: accountIndex, amount }),
  fc.record({ op: fc.constant('hold' as const), account: accountIndex, amount }),
  fc.record({
    op: fc.constant('capture' as const),
    hold: fc.nat(20),
    percent: fc.integer({ min: 1, max: 100 }),
    to: accountIndex,
  }),
  fc.record({ op: fc.constant('release' as const), hold: fc.nat(20) }),
);

interface ModelAccount {
  id: string;
  currency: string;
  balance: bigint;
  held: bigint;
}
interface ModelHold {
  reference: string;
  account: number;
  amount: bigint;
  active: boolean;
}

async function attempt(operation: Promise<unknown>): Promise<string> {
  try {
    await operation;
    return 'ok';
  } catch (error) {
    if (error instanceof PaymentsError) return error.code;
    throw error;
  }
}

async function apply(accounts: ModelAccount[], holds: ModelHold[], cmd: Command): Promise<void> {
  switch (cmd.op) {
    case 'deposit': {
      const account = accounts[cmd.account]!;
      await fund(prisma, account.id, cmd.amount, account.currency);
      account.balance += cmd.amount;
      return;
    }
    case 'transfer': {
      const from = accounts[cmd.from]!;
      const to = accounts[cmd.to]!;
      const result = await attempt(
        post(prisma, {
          kind: 'transfer',
          idempotencyKey: newId('txn'),
          entries: [
            { accountId: from.id, amount: -cmd.amount },
            { accountId: to.id, amount: cmd.amount },
          ],
        }),
      );
      if (from === to) {
        // Debit and credit of one account: a no-op that must still be balanced and allowed
        // only when the debit leg alone fits.
        expect(result).toBe(from.balance - from.held >= cmd.amount ? 'ok' : 'insufficient_funds');
      } else if (from.currency !== to.currency) {
        expect(result).toBe('currency_mismatch');
      } else if (from.balance - from.held < cmd.amount) {
        expect(result).toBe('insufficient_funds');
      } else {
        expect(result).toBe('ok');
        from.balance -= cmd.amount;
        to.balance += cmd.amount;
      }
      return;
    }
    case 'hold': {
      const account = accounts[cmd.account]!;
      const reference = newId('hold');
      const result = await attempt(placeHold(prisma, { accountId: account.id, amount: cmd.amount, reference }));
      if (account.balance - account.held < cmd.amount) {
        expect(result).toBe('insufficient_funds');
      } else {
        expect(result).toBe('ok');
        account.held += cmd.amount;
        holds.push({ reference, account: cmd.account, amount: cmd.amount, active: true });
      }
      return;
    }
    case 'capture': {
      const hold = holds[cmd.hold];
      if (!hold) return;
      const from = accounts[hold.account]!;
      const to = accounts[cmd.to]!;
      if (to === from || to.currency !== from.currency) return;
      const captured = (hold.amount * BigInt(cmd.percent) + 99n) / 100n;
      const result = await attempt(
        captureHold(prisma, hold.reference, captured, {
          kind: 'transfer',
          idempotencyKey: `${hold.reference}:capture`,
          entries: [
            { accountId: from.id, amount: -captured },
            { accountId: to.id, amount: captured },
          ],
        }),
      );
      if (!hold.active) {
        // A replay of an earlier capture returns it; a released hold refuses.
        expect(['ok', 'hold_unexpected_state']).toContain(result);
        return;
      }
      expect(result).toBe('ok');
      hold.active = false;
      from.held -= hold.amount;
      from.balance -= captured;
      to.balance += captured;
      return;
    }
    case 'release': {
      const hold = holds[cmd.hold];
      if (!hold) return;
      const result = await attempt(releaseHold(prisma, hold.reference));
      if (hold.active) {
        expect(result).toBe('ok');
        hold.active = false;
        accounts[hold.account]!.held -= hold.amount;
      } else {
        expect(['ok', 'hold_unexpected_state']).toContain(result);
      }
      return;
    }
  }
}

describe('ledger model-based property', () => {
  it('keeps every balance equal to the model and the books reconciled', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), async (commands) => {
        const accounts: ModelAccount[] = [];
        for (const currency of currencies) {
          accounts.push({ id: await openAccount(prisma, currency), currency, balance: 0n, held: 0n });
        }
        const holds: ModelHold[] = [];
        for (const cmd of commands) await apply(accounts, holds, cmd);

        for (const account of accounts) {
          const row = await prisma.account.findUniqueOrThrow({ where: { id: account.id } });
          expect({ id: row.id, balance: row.balance, held: row.held }).toEqual({
            id: account.id,
            balance: account.balance,
            held: account.held,
          });
        }
        expect(await reconcile(prisma)).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });
});
