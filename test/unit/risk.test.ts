import { describe, expect, it } from 'vitest';
import { assessTransfer } from '../../src/domain/risk.ts';

describe('transfer risk', () => {
  const limits = { maxTransferAmountMinor: 10_000n };
  it('allows up to the ceiling and blocks above it', () => {
    expect(assessTransfer({ amount: 10_000n, currency: 'USD' }, limits)).toBe('allow');
    expect(assessTransfer({ amount: 10_001n, currency: 'USD' }, limits)).toBe('block');
  });
});
