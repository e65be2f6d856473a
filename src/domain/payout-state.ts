// The payout state machine, pure so the workflow, its activities and the API share it.
//
//   pending ──provider accepts──► in_transit ──payout.paid──► paid
//      │                              └──────payout.failed──► failed (reversed to available)
//      └──refused, unreachable, balance gone──────────────────► failed (hold released)
//
// `pending`: the amount is held on the merchant's available balance and the payout is being
// submitted. Every write of a status names the statuses it may come from, so a late or
// repeated step never moves a payout backwards.

export const payoutStatuses = ['pending', 'in_transit', 'paid', 'failed'] as const;

export type PayoutStatus = (typeof payoutStatuses)[number];

const next: Record<PayoutStatus, readonly PayoutStatus[]> = {
  pending: ['in_transit', 'failed'],
  in_transit: ['paid', 'failed'],
  paid: [],
  failed: [],
};

export function canMovePayout(from: PayoutStatus, to: PayoutStatus): boolean {
  return next[from].includes(to);
}

/** The statuses a payout may reach `to` from. */
export function payoutPredecessors(to: PayoutStatus): PayoutStatus[] {
  return payoutStatuses.filter((from) => canMovePayout(from, to));
}

export function isFinalPayout(status: PayoutStatus): boolean {
  return next[status].length === 0;
}

export function isPayoutStatus(value: string): value is PayoutStatus {
  return (payoutStatuses as readonly string[]).includes(value);
}
