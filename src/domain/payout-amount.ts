import { dinero, greaterThan, lessThan, type Dinero } from 'dinero.js/bigint';
import { currencyOf } from './money.ts';
import type { Check } from './payment-state.ts';

// How much a payout takes, as a pure rule shared by the API's check and the property tests:
// the amount asked for, or all of the available balance when none is, never below the
// merchant's minimum and never above what is available. The hold placed when the payout
// starts enforces the upper bound again, atomically, against concurrent refunds and transfers.

export interface PayoutBalance {
  /** ISO 4217. */
  currency: string;
  /** The merchant's available balance (balance − held) in the currency. */
  available: bigint;
  /** The merchant's minimum payout, in minor units. */
  minimum: bigint;
}

function money(amount: bigint, currencyCode: string): Dinero<bigint> {
  const currency = currencyOf(currencyCode);
  if (!currency) throw new Error(`unknown currency ${currencyCode}`);
  return dinero({ amount, currency });
}

/** The payout's amount: `requested`, or the whole available balance when undefined. */
export function checkPayoutAmount(requested: bigint | undefined, balance: PayoutBalance): Check<bigint> {
  const amount = requested ?? balance.available;
  const { currency } = balance;
  if (lessThan(money(amount, currency), money(balance.minimum, currency)) || amount <= 0n) {
    return {
      ok: false,
      code: 'amount_too_small',
      message:
        requested === undefined
          ? `The available balance (${balance.available}) is below the minimum payout amount (${balance.minimum}).`
          : `A payout must be at least ${balance.minimum} (minor units of ${currency}).`,
      param: 'amount',
    };
  }
  if (greaterThan(money(amount, currency), money(balance.available, currency))) {
    return {
      ok: false,
      code: 'insufficient_funds',
      message: `The available balance (${balance.available}) does not cover a payout of ${amount}.`,
      param: 'amount',
    };
  }
  return { ok: true, value: amount };
}
