import * as currencies from 'dinero.js/bigint/currencies';
import type { DineroCurrency } from 'dinero.js/bigint';

// Amounts are bigint minor units everywhere. The API speaks JSON integers, so amounts that
// cross it stay within Number.MAX_SAFE_INTEGER; anything bigger is refused, not rounded.

export const maxApiAmountMinor = BigInt(Number.MAX_SAFE_INTEGER);

const byCode = new Map<string, DineroCurrency<bigint>>(
  Object.values(currencies as Record<string, DineroCurrency<bigint>>).map((currency) => [currency.code, currency]),
);

/** The ISO 4217 currency, or undefined when the code is not one. */
export function currencyOf(code: string): DineroCurrency<bigint> | undefined {
  return byCode.get(code);
}

export function isCurrencyCode(code: string): boolean {
  return byCode.has(code);
}

/** Converts a minor-unit amount for a JSON response; asserts it is exactly representable. */
export function toJsonAmount(amount: bigint): number {
  if (amount > maxApiAmountMinor || amount < -maxApiAmountMinor) {
    throw new Error(`amount ${amount} exceeds the JSON-safe range`);
  }
  return Number(amount);
}

/** Every ISO 4217 code dinero.js knows. */
export function allCurrencyCodes(): string[] {
  return [...byCode.keys()];
}
