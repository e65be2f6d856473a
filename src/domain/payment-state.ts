import type { ErrorCode } from './errors.ts';

// The payment state machine, pure so the workflow, its validators and the API share it.
//
//   processing ──► requires_review ──approve──► (authorize)
//        │               └──reject / timeout──► canceled
//        ├──(authorize)──► requires_capture ──capture──► succeeded ──refunds──► (refunded: true)
//        │                      └──cancel / expiry──► canceled
//        ├──(authorize, automatic capture)──────────► succeeded
//        └──decline / block──► failed
//
// A provider step whose answer never came (src/domain/outcome-lookup.ts) is looked up: an
// authorization stays `processing`, a capture or void moves the payment to `processing` until
// the provider's answer is known, a refund stays `pending` on a `succeeded` payment. Still
// unknown after the last lookup: `requires_attention`, until an operator's lookup finds the
// answer and the payment goes on from it.
//
// Refunds never change `status`: they add to amount_refunded.

export const paymentStatuses = [
  'processing',
  'requires_review',
  'requires_capture',
  'succeeded',
  'failed',
  'canceled',
  'requires_attention',
] as const;

export type PaymentStatus = (typeof paymentStatuses)[number];

/** States a caller can act on; POST /v1/payments waits for one of these. */
export function isStable(status: PaymentStatus): boolean {
  return status !== 'processing';
}

export function isFinal(status: PaymentStatus): boolean {
  return status === 'failed' || status === 'canceled';
}

/** A provider step's outcome is being found out: the payment waits for it before anything else. */
export function isInDoubt(status: PaymentStatus): boolean {
  return status === 'processing' || status === 'requires_attention';
}

export interface PaymentAmounts {
  status: PaymentStatus;
  amountCapturable: bigint;
  amountCaptured: bigint;
  amountRefunded: bigint;
  /** Taken back by disputes: no longer refundable. */
  amountDisputed: bigint;
  refundCount: number;
}

export type Check<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string; param?: string };

const unexpected = (action: string, status: PaymentStatus): Check<never> => ({
  ok: false,
  code: 'payment_unexpected_state',
  message: `This payment cannot be ${action} because its status is ${status}.`,
});

/** The amount a capture takes: all that is capturable unless a smaller amount is given. */
export function checkCapture(payment: PaymentAmounts, amount: bigint | undefined): Check<bigint> {
  if (payment.status !== 'requires_capture') return unexpected('captured', payment.status);
  const value = amount ?? payment.amountCapturable;
  if (value <= 0n)
    return { ok: false, code: 'parameter_invalid', message: 'Capture a positive amount.', param: 'amount' };
  if (value > payment.amountCapturable) {
    return {
      ok: false,
      code: 'amount_too_large',
      message: `The amount to capture exceeds the capturable amount (${payment.amountCapturable}).`,
      param: 'amount',
    };
  }
  return { ok: true, value };
}

/** The amount a refund gives back: all that remains unless a smaller amount is given. */
export function checkRefund(payment: PaymentAmounts, amount: bigint | undefined, maxRefunds: number): Check<bigint> {
  if (payment.status !== 'succeeded') return unexpected('refunded', payment.status);
  const remaining = payment.amountCaptured - payment.amountRefunded - payment.amountDisputed;
  if (remaining <= 0n) {
    const message =
      payment.amountDisputed > 0n
        ? 'Nothing remains to refund: the rest of this payment is disputed.'
        : 'This payment is already fully refunded.';
    return { ok: false, code: 'payment_unexpected_state', message };
  }
  if (payment.refundCount >= maxRefunds) {
    return { ok: false, code: 'payment_unexpected_state', message: `A payment takes at most ${maxRefunds} refunds.` };
  }
  const value = amount ?? remaining;
  if (value <= 0n)
    return { ok: false, code: 'parameter_invalid', message: 'Refund a positive amount.', param: 'amount' };
  if (value > remaining) {
    return {
      ok: false,
      code: 'amount_too_large',
      message: `The refund amount exceeds what remains to refund (${remaining}).`,
      param: 'amount',
    };
  }
  return { ok: true, value };
}

export function checkCancel(payment: PaymentAmounts): Check<true> {
  if (payment.status === 'requires_capture' || payment.status === 'requires_review') return { ok: true, value: true };
  return unexpected('canceled', payment.status);
}

export function checkReview(payment: PaymentAmounts): Check<true> {
  if (payment.status === 'requires_review') return { ok: true, value: true };
  return unexpected('reviewed', payment.status);
}
