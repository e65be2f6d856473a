import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { idTimePart, newId, randomToken } from '../../src/ids.ts';

describe('ids', () => {
  it('are prefixed, fixed-length and base62', () => {
    expect(newId('acct')).toMatch(/^acct_[0-9A-Za-z]{22}$/);
    expect(randomToken(64)).toMatch(/^[0-9A-Za-z]{64}$/);
  });

  it('do not repeat', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId('txn')));
    expect(ids.size).toBe(10_000);
  });

  it('start with the creation time as 8 base62 digits', () => {
    expect(idTimePart(0)).toBe('00000000');
    expect(idTimePart(61)).toBe('0000000z');
    expect(idTimePart(62)).toBe('00000010');
    expect(idTimePart(62 ** 8 - 1)).toBe('zzzzzzzz');
    const before = idTimePart(Date.now());
    const id = newId('evt');
    expect(id.slice(4, 12) >= before).toBe(true);
    expect(id.slice(4, 12) <= idTimePart(Date.now())).toBe(true);
  });

  it('sort by creation time (byte order, as PostgreSQL compares them under C collation)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 47 }), fc.nat({ max: 2 ** 47 }), (a, b) => {
        const [x, y] = [idTimePart(a), idTimePart(b)];
        expect(x < y).toBe(a < b);
        expect(x === y).toBe(a === b);
      }),
    );
  });
});
