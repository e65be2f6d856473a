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

export interface PaymentRiskRules {
  /** Per currency: at or above this amount a person reviews the payment. */
  reviewAboveMinor: Record<string, bigint>;
  /** Per currency: at or above this amount the payment is blocked. */
  blockAboveMinor: Record<string, bigint>;
  /** How many payments one customer or one card may make per window before being blocked. */
  maxPaymentsPerWindow: number;
  velocityWindowMs: number;
  blockedCustomers: string[];
  /** Card fingerprints or test tokens that are always blocked. */
  blockedCards: string[];
}

export interface PaymentRiskFacts {
  amount: bigint;
  currency: string;
  customer: string | null;
  card: string | null;
  /** Payments made in the velocity window before this one, counted in PostgreSQL. */
  customerPaymentsInWindow: number;
  cardPaymentsInWindow: number;
}

export interface RiskAssessment {
  outcome: RiskOutcome;
  /** Which rule decided: shown to the merchant in the payment's events. */
  rule: 'block_list' | 'velocity' | 'amount_block' | 'amount_review' | 'none';
}

/** Block list first, then velocity, then amount thresholds; the first rule that fires wins. */
export function assessPayment(facts: PaymentRiskFacts, rules: PaymentRiskRules): RiskAssessment {
  if (
    (facts.customer !== null && rules.blockedCustomers.includes(facts.customer)) ||
    (facts.card !== null && rules.blockedCards.includes(facts.card))
  ) {
    return { outcome: 'block', rule: 'block_list' };
  }
  if (
    facts.customerPaymentsInWindow >= rules.maxPaymentsPerWindow ||
    facts.cardPaymentsInWindow >= rules.maxPaymentsPerWindow
  ) {
    return { outcome: 'block', rule: 'velocity' };
  }
  const block = rules.blockAboveMinor[facts.currency];
  if (block !== undefined && facts.amount >= block) return { outcome: 'block', rule: 'amount_block' };
  const review = rules.reviewAboveMinor[facts.currency];
  if (review !== undefined && facts.amount >= review) return { outcome: 'review', rule: 'amount_review' };
  return { outcome: 'allow', rule: 'none' };
}
