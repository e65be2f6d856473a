import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultFeeSchedule, feeFor, refundedFeeShare } from '../../src/domain/fees.ts';

describe('fees', () => {
  it('charges 2.9 % + 30 on 100.00 USD: 320 fee, 9,680 net', () => {
    expect(feeFor(10_000n, 'USD', defaultFeeSchedule)).toBe(320n);
  });

  it('never charges more than the amount', () => {
    expect(feeFor(20n, 'USD', defaultFeeSchedule)).toBe(20n);
    expect(feeFor(0n, 'USD', defaultFeeSchedule)).toBe(0n);
  });

  it('works in currencies without minor units', () => {
    expect(feeFor(10_000n, 'JPY', { percentBasisPoints: 360, fixedMinor: 0n })).toBe(360n);
  });

  it('gives back exactly the whole fee over any sequence of partial refunds', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10_000_000n }),
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 10 }),
        (captured, weights) => {
          const fee = feeFor(captured, 'USD', defaultFeeSchedule);
          expect(fee).toBeGreaterThanOrEqual(0n);
          expect(fee).toBeLessThanOrEqual(captured);
          // Cut the captured amount into refunds proportional to the weights.
          const totalWeight = BigInt(weights.reduce((sum, weight) => sum + weight, 0));
          let refunded = 0n;
          let feeBack = 0n;
          weights.forEach((weight, index) => {
            const isLast = index === weights.length - 1;
            const refund = isLast ? captured - refunded : (captured * BigInt(weight)) / totalWeight;
            const before = refundedFeeShare(fee, 'USD', refunded, captured);
            refunded += refund;
            const after = refundedFeeShare(fee, 'USD', refunded, captured);
            expect(after).toBeGreaterThanOrEqual(before);
            feeBack += after - before;
          });
          expect(refunded).toBe(captured);
          expect(feeBack).toBe(fee);
        },
      ),
    );
  });
});
