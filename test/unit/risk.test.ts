import { describe, expect, it } from 'vitest';
import { assessPayment, assessTransfer } from '../../src/domain/risk.ts';

describe('transfer risk', () => {
  const limits = { maxTransferAmountMinor: 10_000n };
  it('allows up to the ceiling and blocks above it', () => {
    expect(assessTransfer({ amount: 10_000n, currency: 'USD' }, limits)).toBe('allow');
    expect(assessTransfer({ amount: 10_001n, currency: 'USD' }, limits)).toBe('block');
  });
});

describe('payment risk', () => {
  const rules = {
    reviewAboveMinor: { USD: 50_000n },
    blockAboveMinor: { USD: 1_000_000n },
    maxPaymentsPerWindow: 3,
    velocityWindowMs: 60_000,
    blockedCustomers: ['cus_fraud'],
    blockedCards: ['tok_riskHigh'],
  };
  const facts = {
    amount: 1_000n,
    currency: 'USD',
    customer: 'cus_1',
    card: 'tok_visa',
    customerPaymentsInWindow: 0,
    cardPaymentsInWindow: 0,
  };

  it('allows an ordinary payment', () => {
    expect(assessPayment(facts, rules)).toEqual({ outcome: 'allow', rule: 'none' });
  });
  it('blocks listed customers and cards', () => {
    expect(assessPayment({ ...facts, customer: 'cus_fraud' }, rules)).toEqual({ outcome: 'block', rule: 'block_list' });
    expect(assessPayment({ ...facts, card: 'tok_riskHigh' }, rules)).toEqual({ outcome: 'block', rule: 'block_list' });
  });
  it('blocks the payment that exceeds the velocity limit, per customer or per card', () => {
    expect(assessPayment({ ...facts, customerPaymentsInWindow: 2 }, rules).outcome).toBe('allow');
    expect(assessPayment({ ...facts, customerPaymentsInWindow: 3 }, rules)).toEqual({
      outcome: 'block',
      rule: 'velocity',
    });
    expect(assessPayment({ ...facts, cardPaymentsInWindow: 3 }, rules)).toEqual({ outcome: 'block', rule: 'velocity' });
  });
  it('reviews large amounts and blocks very large ones, per currency', () => {
    expect(assessPayment({ ...facts, amount: 49_999n }, rules).outcome).toBe('allow');
    expect(assessPayment({ ...facts, amount: 50_000n }, rules)).toEqual({ outcome: 'review', rule: 'amount_review' });
    expect(assessPayment({ ...facts, amount: 1_000_000n }, rules)).toEqual({ outcome: 'block', rule: 'amount_block' });
    expect(assessPayment({ ...facts, amount: 1_000_000n, currency: 'EUR' }, rules).outcome).toBe('allow');
  });
});
