import { dinero, toDecimal, toSnapshot, transformScale } from 'dinero.js/bigint';
import type { DineroCurrency } from 'dinero.js/bigint';
import { PaymentsError } from '../domain/errors.ts';
import { currencyOf } from '../domain/money.ts';

// PayPal speaks decimal strings ("10.50", JPY "1050", KWD "1.050"); we speak bigint minor
// units. dinero.js knows each currency's exponent, so no float ever holds an amount.

export interface PayPalMoney {
  currency_code: string;
  value: string;
}

// PayPal's own limit on `value`: up to 32 digits before the point (bounds the parser too).
const decimalPattern = /^(-?)(\d{1,32})(?:\.(\d{1,32}))?$/;

function currencyFor(code: string): DineroCurrency<bigint> {
  const currency = currencyOf(code);
  if (!currency) throw new PaymentsError('parameter_invalid', `Unknown ISO 4217 currency: ${code}.`, 'currency');
  // MGA and MRU divide into fifths; PayPal offers neither, and a decimal string cannot say it.
  if (currency.base !== 10n) {
    throw new PaymentsError('parameter_invalid', `${code} has no decimal minor unit.`, 'currency');
  }
  return currency;
}

/** Minor units → PayPal's decimal string, e.g. (1050n, 'USD') → "10.50", (1050n, 'KWD') → "1.050". */
export function toPayPalValue(amountMinor: bigint, currencyCode: string): string {
  return toDecimal(dinero({ amount: amountMinor, currency: currencyFor(currencyCode) }));
}

/**
 * PayPal's decimal string → minor units. Fewer decimals than the currency has are fine
 * ("10.5" USD is 1050); more are refused rather than rounded, as PayPal itself does.
 */
export function fromPayPalValue(value: string, currencyCode: string): bigint {
  const currency = currencyFor(currencyCode);
  const match = decimalPattern.exec(value);
  if (!match) throw new PaymentsError('parameter_invalid', `Not a decimal amount: ${JSON.stringify(value)}.`, 'value');
  const [, sign = '', whole = '', fraction = ''] = match;
  const scale = BigInt(fraction.length);
  if (scale > currency.exponent) {
    throw new PaymentsError(
      'parameter_invalid',
      `${currencyCode} has ${currency.exponent} decimal places; got ${JSON.stringify(value)}.`,
      'value',
    );
  }
  const exact = dinero({ amount: BigInt(`${sign}${whole}${fraction}`), currency, scale });
  return toSnapshot(transformScale(exact, currency.exponent)).amount;
}

export function toPayPalMoney(amountMinor: bigint, currencyCode: string): PayPalMoney {
  return { currency_code: currencyCode, value: toPayPalValue(amountMinor, currencyCode) };
}

export function fromPayPalMoney(money: PayPalMoney): bigint {
  return fromPayPalValue(money.value, money.currency_code);
}
