// A payment transition's effect on the ledger, as plain data the workflow hands to the activity
// that records the transition (src/payments/payment-books.ts posts it).

export type LedgerStep =
  | { kind: 'capture'; amount: bigint; fee: bigint }
  | { kind: 'refund'; refundId: string; amount: bigint; feeBack: bigint; fromPending: boolean }
  | { kind: 'dispute'; disputeId: string; amount: bigint; fromPending: boolean }
  | { kind: 'settlement'; amount: bigint }
  /** A wallet payment's hold ends without capture (cancel, expiry, review rejected). */
  | { kind: 'release_hold'; status: 'released' | 'expired' };
