import { describe, expect, it } from 'vitest';
import { currencyOf, isCurrencyCode, toJsonAmount, maxApiAmountMinor } from '../../src/domain/money.ts';

describe('money', () => {
  it('knows ISO 4217 currencies and their minor-unit exponent', () => {
    expect(isCurrencyCode('USD')).toBe(true);
    expect(isCurrencyCode('usd')).toBe(false);
    expect(isCurrencyCode('XXZ')).toBe(false);
    expect(currencyOf('USD')?.exponent).toBe(2n);
    expect(currencyOf('JPY')?.exponent).toBe(0n);
    expect(currencyOf('KWD')?.exponent).toBe(3n);
  });

  it('converts amounts to JSON numbers only when exact', () => {
    expect(toJsonAmount(1050n)).toBe(1050);
    expect(toJsonAmount(-maxApiAmountMinor)).toBe(-Number.MAX_SAFE_INTEGER);
    expect(() => toJsonAmount(maxApiAmountMinor + 1n)).toThrow(/JSON-safe/);
  });
});
