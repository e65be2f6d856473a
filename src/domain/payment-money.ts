import { feeFor, refundedFeeShare, type FeeSchedule } from './fees.ts';

// The money of one payment after capture, as pure arithmetic shared by the workflow, its
// validators and the property tests. Two sums bound everything that can leave the merchant:
// refunds (ours or reported by the provider) and disputes both draw on what remains of the
// captured amount, so the payer never gets back more than was captured, whatever the order
// of events. A refund gives the payer `amount` and the merchant pays `amount − feeBack`; a
// dispute takes its full amount from the merchant (the processing fee is not returned, as at
// card networks). The merchant therefore never pays back more than the payer receives, and
// its position on a payment never goes below minus the fee it kept paying.

export interface PaymentMoney {
  captured: bigint;
  fee: bigint;
  refunded: bigint;
  /** Fee given back to the merchant with refunds so far. */
  feeReturned: bigint;
  disputed: bigint;
}

export const uncapturedMoney: PaymentMoney = { captured: 0n, fee: 0n, refunded: 0n, feeReturned: 0n, disputed: 0n };

export function captured(amount: bigint, currency: string, schedule: FeeSchedule): PaymentMoney {
  if (amount <= 0n) throw new Error(`a capture takes a positive amount, got ${amount}`);
  return { ...uncapturedMoney, captured: amount, fee: feeFor(amount, currency, schedule) };
}

/** What the merchant receives for the capture. */
export function netOf(money: PaymentMoney): bigint {
  return money.captured - money.fee;
}

/** What may still be refunded or disputed. */
export function refundable(money: PaymentMoney): bigint {
  const rest = money.captured - money.refunded - money.disputed;
  return rest > 0n ? rest : 0n;
}

/** `requested` bounded by what remains: what a provider-reported refund or a dispute can take. */
export function boundedByRefundable(money: PaymentMoney, requested: bigint): bigint {
  const rest = refundable(money);
  if (requested <= 0n) return 0n;
  return requested < rest ? requested : rest;
}

export interface RefundShare {
  amount: bigint;
  /** The part of the fee this refund gives back; the platform pays it, the merchant the rest. */
  feeBack: bigint;
}

/**
 * The fee share of a refund of `amount`. Fee shares are proportional to the refunded total, so
 * the shares of any sequence of refunds that returns everything add up to exactly the fee.
 */
export function refundShare(money: PaymentMoney, currency: string, amount: bigint): RefundShare {
  if (amount <= 0n || amount > refundable(money)) {
    throw new Error(`refund of ${amount} exceeds the refundable ${refundable(money)}`);
  }
  const after = refundedFeeShare(money.fee, currency, money.refunded + amount, money.captured);
  const before = refundedFeeShare(money.fee, currency, money.refunded, money.captured);
  return { amount, feeBack: after - before };
}

export function afterRefund(money: PaymentMoney, share: RefundShare): PaymentMoney {
  return { ...money, refunded: money.refunded + share.amount, feeReturned: money.feeReturned + share.feeBack };
}

export function afterDispute(money: PaymentMoney, amount: bigint): PaymentMoney {
  if (amount <= 0n || amount > refundable(money)) {
    throw new Error(`dispute of ${amount} exceeds the refundable ${refundable(money)}`);
  }
  return { ...money, disputed: money.disputed + amount };
}

/** What the payer has got back: refunds and disputes. */
export function returnedToPayer(money: PaymentMoney): bigint {
  return money.refunded + money.disputed;
}

/** The merchant's position on this payment: net received minus what refunds and disputes took. */
export function merchantPosition(money: PaymentMoney): bigint {
  return netOf(money) - (money.refunded - money.feeReturned) - money.disputed;
}
