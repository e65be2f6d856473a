import { describe, expect, it } from 'vitest';
import { queryInstant } from '../../src/api/query-time.ts';

describe('queryInstant', () => {
  it('reads instants of years 1 to 9999', () => {
    expect(queryInstant('0001-01-01T00:00:00Z', 'at').toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(queryInstant('9999-12-31T23:59:59Z', 'at').toISOString()).toBe('9999-12-31T23:59:59.000Z');
  });

  it('refuses year 0000 (PostgreSQL has none), later years and non-instants, naming the parameter', () => {
    for (const value of ['0000-01-01T00:00:00Z', '+010000-01-01T00:00:00Z', '2026-12-06T23:59:60Z', 'soon']) {
      expect(() => queryInstant(value, 'at'), value).toThrow(
        expect.objectContaining({ code: 'parameter_invalid', param: 'at' }),
      );
    }
  });
});
