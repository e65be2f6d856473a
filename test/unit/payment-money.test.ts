import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  afterDispute,
  afterRefund,
  boundedByRefundable,
  captured,
  merchantPosition,
  netOf,
  refundable,
  refundShare,
  returnedToPayer,
  type PaymentMoney,
} from '../../src/domain/payment-money.ts';
import { checkRefund } from '../../src/domain/payment-state.ts';
import { defaultFeeSchedule } from '../../src/domain/fees.ts';
import { captureRecipe, disputeRecipe, refundRecipe } from '../../src/ledger/payment-recipes.ts';

// The money rules of one payment, as the workflow applies them: our refunds are checked
// (checkRefund) and refused beyond what remains; provider-reported refunds and disputes are
// bounded by what remains. Whatever the sequence, nobody gets money that was not captured.

const party = { paymentId: 'pay_1', merchantId: 'mer_1', currency: 'USD', walletAccountId: null };

type Step =
  | { kind: 'refund'; amount: bigint }
  | { kind: 'provider_refund'; amount: bigint }
  | { kind: 'dispute'; amount: bigint };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('refund' as const), amount: fc.bigInt({ min: 1n, max: 2_000_000n }) }),
  fc.record({ kind: fc.constant('provider_refund' as const), amount: fc.bigInt({ min: 1n, max: 2_000_000n }) }),
  fc.record({ kind: fc.constant('dispute' as const), amount: fc.bigInt({ min: 1n, max: 2_000_000n }) }),
);

const schedule = fc.record({
  percentBasisPoints: fc.integer({ min: 0, max: 2_000 }),
  fixedMinor: fc.bigInt({ min: 0n, max: 500n }),
});

function entriesSum(entries: { amount: bigint }[]): bigint {
  return entries.reduce((sum, entry) => sum + entry.amount, 0n);
}

/** Applies one step as the workflow does; returns the new money and the ledger entries it posts. */
function apply(money: PaymentMoney, next: Step): { money: PaymentMoney; entries: { amount: bigint }[] } {
  if (next.kind === 'dispute') {
    const amount = boundedByRefundable(money, next.amount);
    if (amount === 0n) return { money, entries: [] };
    const recipe = disputeRecipe(party, { disputeId: 'dp', amount, fromPending: true });
    return { money: afterDispute(money, amount), entries: recipe.posting.entries };
  }
  let amount = next.amount;
  if (next.kind === 'refund') {
    const amounts = {
      status: 'succeeded' as const,
      amountCapturable: 0n,
      amountCaptured: money.captured,
      amountRefunded: money.refunded,
      amountDisputed: money.disputed,
      refundCount: 0,
    };
    const check = checkRefund(amounts, amount, 50);
    if (!check.ok) {
      expect(amount > refundable(money) || refundable(money) === 0n).toBe(true);
      return { money, entries: [] };
    }
    amount = check.value;
  } else {
    amount = boundedByRefundable(money, amount);
    if (amount === 0n) return { money, entries: [] };
  }
  const share = refundShare(money, 'USD', amount);
  const recipe = refundRecipe(party, { refundId: 're', ...share, fromPending: true });
  return { money: afterRefund(money, share), entries: recipe.posting.entries };
}

describe('payment money', () => {
  it('never returns more than was captured, and the merchant never pays back more than the payer got', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 1_000_000n }),
        schedule,
        fc.array(step, { maxLength: 30 }),
        (amount, fees, steps) => {
          let money = captured(amount, 'USD', fees);
          expect(entriesSum(captureRecipe(party, amount, money.fee).posting.entries)).toBe(0n);
          for (const next of steps) {
            const applied = apply(money, next);
            expect(entriesSum(applied.entries)).toBe(0n);
            money = applied.money;
            expect(returnedToPayer(money)).toBeLessThanOrEqual(money.captured);
            expect(money.feeReturned).toBeGreaterThanOrEqual(0n);
            expect(money.feeReturned).toBeLessThanOrEqual(money.fee);
            expect(merchantPosition(money)).toBeGreaterThanOrEqual(-money.fee);
            expect(refundable(money)).toBe(money.captured - returnedToPayer(money));
          }
          // Refunding everything gives back exactly the whole fee.
          if (money.refunded === money.captured) expect(money.feeReturned).toBe(money.fee);
        },
      ),
    );
  });

  it('refuses to refund a fully disputed 1,000 sale: the merchant keeps −59, the payer gets 1,000 once', () => {
    let money = captured(1_000n, 'USD', defaultFeeSchedule);
    expect([money.fee, netOf(money)]).toEqual([59n, 941n]);
    money = afterDispute(money, boundedByRefundable(money, 1_000n));
    const check = checkRefund(
      {
        status: 'succeeded',
        amountCapturable: 0n,
        amountCaptured: money.captured,
        amountRefunded: money.refunded,
        amountDisputed: money.disputed,
        refundCount: 0,
      },
      941n,
      50,
    );
    expect(check).toMatchObject({ ok: false, code: 'payment_unexpected_state' });
    expect(boundedByRefundable(money, 941n)).toBe(0n);
    expect(returnedToPayer(money)).toBe(1_000n);
    expect(merchantPosition(money)).toBe(-59n);
  });

  it('bounds a dispute after a partial refund by what remains', () => {
    let money = captured(10_000n, 'USD', defaultFeeSchedule);
    money = afterRefund(money, refundShare(money, 'USD', 4_000n));
    expect(boundedByRefundable(money, 10_000n)).toBe(6_000n);
    expect(() => afterDispute(money, 6_001n)).toThrow();
    expect(() => refundShare(money, 'USD', 6_001n)).toThrow();
  });
});
