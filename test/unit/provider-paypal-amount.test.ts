import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as currencies from 'dinero.js/bigint/currencies';
import type { DineroCurrency } from 'dinero.js/bigint';
import { PaymentsError } from '../../src/domain/errors.ts';
import { fromPayPalValue, toPayPalMoney, toPayPalValue } from '../../src/providers/paypal-amount.ts';

// MGA and MRU divide into fifths, not tenths: they have no decimal string.
const decimal = Object.values(currencies as Record<string, DineroCurrency<bigint>>).filter(
  (currency) => currency.base === 10n,
);

describe('PayPal decimal amounts', () => {
  it('writes minor units with the currency exponent', () => {
    expect(toPayPalValue(1050n, 'USD')).toBe('10.50');
    expect(toPayPalValue(5n, 'USD')).toBe('0.05');
    expect(toPayPalValue(0n, 'EUR')).toBe('0.00');
    expect(toPayPalValue(1050n, 'JPY')).toBe('1050');
    expect(toPayPalValue(1050n, 'KWD')).toBe('1.050');
    expect(toPayPalValue(-300n, 'KWD')).toBe('-0.300');
    expect(toPayPalValue(9_007_199_254_740_993n, 'USD')).toBe('90071992547409.93');
    expect(toPayPalMoney(1999n, 'GBP')).toEqual({ currency_code: 'GBP', value: '19.99' });
  });

  it('reads decimal strings into minor units', () => {
    expect(fromPayPalValue('10.50', 'USD')).toBe(1050n);
    expect(fromPayPalValue('10.5', 'USD')).toBe(1050n);
    expect(fromPayPalValue('10', 'USD')).toBe(1000n);
    expect(fromPayPalValue('1050', 'JPY')).toBe(1050n);
    expect(fromPayPalValue('1.050', 'KWD')).toBe(1050n);
    expect(fromPayPalValue('1.05', 'KWD')).toBe(1050n);
    expect(fromPayPalValue('-0.300', 'KWD')).toBe(-300n);
  });

  it('refuses more decimals than the currency has, rather than rounding', () => {
    expect(() => fromPayPalValue('1.5', 'JPY')).toThrow(PaymentsError);
    expect(() => fromPayPalValue('10.505', 'USD')).toThrow(/2 decimal places/);
    expect(() => fromPayPalValue('1.0501', 'KWD')).toThrow(/3 decimal places/);
  });

  it('refuses what is not a plain decimal, and unknown currencies', () => {
    for (const value of ['', '1e3', '0x10', ' 1.00', '1.', '.5', '1,00', 'NaN', '1'.repeat(33)]) {
      expect(() => fromPayPalValue(value, 'USD'), value).toThrow(PaymentsError);
    }
    expect(() => toPayPalValue(100n, 'XXZ')).toThrow(/Unknown ISO 4217 currency/);
    expect(() => fromPayPalValue('1.00', 'usd')).toThrow(/Unknown ISO 4217 currency/);
    expect(() => toPayPalValue(5n, 'MGA')).toThrow(/no decimal minor unit/);
  });

  it('round-trips every amount in every currency exactly', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...decimal),
        fc.bigInt({ min: -(10n ** 32n) + 1n, max: 10n ** 32n - 1n }),
        (currency, amount) => {
          const value = toPayPalValue(amount, currency.code);
          const decimals = Number(currency.exponent);
          // Exactly the currency's decimals, never an exponent or a float artefact.
          expect(value).toMatch(decimals === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${decimals}}$`));
          expect(fromPayPalValue(value, currency.code)).toBe(amount);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
