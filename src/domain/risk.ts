// Risk rules are pure functions of their inputs so workflows can call them directly and
// replay them deterministically. Transfers get a single amount ceiling for now; the payments
// issue brings velocity, per-currency thresholds and block lists.

export type RiskOutcome = 'allow' | 'review' | 'block';

export interface TransferRiskInput {
  amount: bigint;
  currency: string;
}

export interface TransferRiskLimits {
  /** Transfers above this many minor units are blocked, whatever the currency. */
  maxTransferAmountMinor: bigint;
}

export function assessTransfer(transfer: TransferRiskInput, limits: TransferRiskLimits): RiskOutcome {
  return transfer.amount > limits.maxTransferAmountMinor ? 'block' : 'allow';
}
