import { describe, expect, it } from 'vitest';
import { newId, randomToken } from '../../src/ids.ts';

describe('ids', () => {
  it('are prefixed, fixed-length and base62', () => {
    expect(newId('acct')).toMatch(/^acct_[0-9A-Za-z]{22}$/);
    expect(randomToken(64)).toMatch(/^[0-9A-Za-z]{64}$/);
  });

  it('do not repeat', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId('txn')));
    expect(ids.size).toBe(10_000);
  });
});
