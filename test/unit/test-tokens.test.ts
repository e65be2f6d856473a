import { describe, expect, it } from 'vitest';
import { testTokens } from '../../src/providers/test-tokens.ts';
import { testCards } from '../../src/provider-sim/cards.ts';
import { cardFingerprint } from '../../src/payments/card-fingerprint.ts';

describe('published test tokens', () => {
  it('are exactly the simulator test cards', () => {
    expect([...testTokens].sort()).toEqual(Object.keys(testCards).sort());
  });

  it('have no card fingerprint, so card velocity never counts them; other tokens do', () => {
    for (const token of testTokens) expect(cardFingerprint(token)).toBeNull();
    expect(cardFingerprint('tok_1QxRealCard')).toMatch(/^[0-9a-f]{32}$/);
    expect(cardFingerprint('tok_1QxRealCard')).toBe(cardFingerprint('tok_1QxRealCard'));
    expect(cardFingerprint('tok_1QxRealCard')).not.toBe(cardFingerprint('tok_1QxOtherCard'));
  });
});
