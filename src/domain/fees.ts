import { allocate, dinero, toSnapshot, type Dinero } from 'dinero.js/bigint';
import { currencyOf } from './money.ts';

// Fees in integer minor units with dinero.js allocation: a split never creates or loses a
// unit, so fee + net always equals the captured amount, and the fee shares given back over
// any sequence of partial refunds add up to exactly the fee.

export interface FeeSchedule {
  /** 290 = 2.9 %. */
  percentBasisPoints: number;
  fixedMinor: bigint;
}

export const defaultFeeSchedule: FeeSchedule = { percentBasisPoints: 290, fixedMinor: 30n };

const basisPointsPerWhole = 10_000;

function money(amount: bigint, currencyCode: string): Dinero<bigint> {
  const currency = currencyOf(currencyCode);
  if (!currency) throw new Error(`unknown currency ${currencyCode}`);
  return dinero({ amount, currency });
}

function amountOf(value: Dinero<bigint>): bigint {
  return toSnapshot(value).amount;
}

/** Splits `amount` into [share of ratio, rest] without losing a unit. */
function split(amount: bigint, currencyCode: string, part: bigint, whole: bigint): bigint {
  if (whole === 0n || part === 0n || amount === 0n) return 0n;
  if (part === whole) return amount;
  const [share] = allocate(money(amount, currencyCode), [part, whole - part]);
  return share ? amountOf(share) : 0n;
}

/** The platform fee on a captured amount, never more than the amount itself. */
export function feeFor(amount: bigint, currencyCode: string, schedule: FeeSchedule): bigint {
  if (amount <= 0n) return 0n;
  const percent = split(amount, currencyCode, BigInt(schedule.percentBasisPoints), BigInt(basisPointsPerWhole));
  const fee = percent + schedule.fixedMinor;
  return fee > amount ? amount : fee;
}

/**
 * The part of the fee that belongs to `refundedTotal` of `captured`. Refund n gives back
 * feeShare(total after n) − feeShare(total before n), so a full refund returns the whole fee.
 */
export function refundedFeeShare(fee: bigint, currencyCode: string, refundedTotal: bigint, captured: bigint): bigint {
  return split(fee, currencyCode, refundedTotal, captured);
}
