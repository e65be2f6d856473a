import { describe, expect, it } from 'vitest';
import { assertPostable } from '../../src/ledger/ledger.ts';
import { PaymentsError } from '../../src/domain/errors.ts';

// A posting that breaks the ledger's invariants is a bug in our code, not a client's mistake:
// it fails as a plain Error (logged, retried, a 500), never as a 400 parameter_invalid.

const posting = (amounts: bigint[]) => ({
  kind: 'test',
  idempotencyKey: 'k',
  entries: amounts.map((amount, index) => ({ accountId: `acct_${index}`, amount })),
});

describe('ledger invariants', () => {
  it('accepts a balanced posting', () => {
    expect(() => assertPostable(posting([-5n, 5n]))).not.toThrow();
  });

  it.each([
    ['unbalanced', [-5n, 4n], /sum to zero/],
    ['a zero entry', [0n, 0n], /cannot be zero/],
    ['a single entry', [5n], /2 to 16 entries/],
  ])('refuses %s as a programmer error', (_name, amounts, message) => {
    let thrown: unknown;
    try {
      assertPostable(posting(amounts as bigint[]));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).not.toBeInstanceOf(PaymentsError);
    expect(String(thrown)).toMatch(message as RegExp);
  });
});
