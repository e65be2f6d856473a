import type { PaymentStatus } from './payment-state.ts';
import type { ProviderName } from '../providers/provider.ts';

// What the payment workflow knows about itself: returned by its query and updates, and
// written to the read model at every transition.

export type PaymentSource =
  { type: 'card'; token: string; provider?: ProviderName | undefined } | { type: 'wallet'; accountId: string };

export interface RefundView {
  id: string;
  paymentId: string;
  amount: bigint;
  reason: string | null;
  status: 'pending' | 'succeeded' | 'failed';
  providerRefundId: string | null;
  transactionId: string | null;
  createdAt: string;
}

export interface PaymentView {
  id: string;
  merchantId: string;
  status: PaymentStatus;
  amount: bigint;
  currency: string;
  captureMethod: 'automatic' | 'manual';
  amountCapturable: bigint;
  amountCaptured: bigint;
  amountRefunded: bigint;
  /** Taken back by disputes; bounds what can still be refunded. */
  amountDisputed: bigint;
  fee: bigint | null;
  netAmount: bigint | null;
  sourceType: 'card' | 'wallet';
  provider: ProviderName | null;
  providerChargeId: string | null;
  cardBrand: string | null;
  cardLast4: string | null;
  cardFingerprint: string | null;
  walletAccountId: string | null;
  customer: string | null;
  description: string | null;
  metadata: Record<string, string> | null;
  failureCode: string | null;
  failureMessage: string | null;
  cancellationReason: string | null;
  settled: boolean;
  refunds: RefundView[];
  version: number;
  createdAt: string;
}

export interface PaymentEventRecord {
  version: number;
  type: string;
  data: Record<string, unknown>;
}

export interface PaymentSettings {
  authorizationExpiryMs: number;
  reviewTimeoutMs: number;
  settlementDelayMs: number;
  /** After this, the workflow completes; later refunds are refused (payment_unexpected_state). */
  refundWindowMs: number;
  maxRefunds: number;
  /**
   * Once a run's history passes this many events it continues as new, carrying its state, so a
   * refund late in the window replays a short history. Absent in inputs of the first version.
   */
  continueAsNewAfterEvents?: number;
  /**
   * Waits before each lookup of a provider step whose answer never came; then the payment
   * requires attention. Absent in inputs from before the lookup policy: the default applies.
   */
  outcomeLookupScheduleMs?: number[];
  fee: import('./fees.ts').FeeSchedule;
  risk: import('./risk.ts').PaymentRiskRules;
}

export interface PaymentInput {
  paymentId: string;
  merchantId: string;
  amount: bigint;
  currency: string;
  captureMethod: 'automatic' | 'manual';
  source: PaymentSource;
  customer: string | null;
  description: string | null;
  metadata: Record<string, string> | null;
  cardFingerprint: string | null;
  createdAt: string;
  settings: PaymentSettings;
  /** Set when a run continues as new: the state its predecessor reached. */
  resume?: PaymentResume | undefined;
}

/** What a payment run hands to the run that continues it (after settlement only). */
export interface PaymentResume {
  view: PaymentView;
  money: import('./payment-money.ts').PaymentMoney;
  /** The provider events applied so far, newest last, bounded. */
  seenProviderEvents: string[];
  disputeIds: string[];
}

/** A new payment as its workflow starts it, and as the API shows it until the workflow answers. */
export function openingView(input: PaymentInput): PaymentView {
  return {
    id: input.paymentId,
    merchantId: input.merchantId,
    status: 'processing',
    amount: input.amount,
    currency: input.currency,
    captureMethod: input.captureMethod,
    amountCapturable: 0n,
    amountCaptured: 0n,
    amountRefunded: 0n,
    amountDisputed: 0n,
    fee: null,
    netAmount: null,
    sourceType: input.source.type,
    provider: input.source.type === 'card' ? (input.source.provider ?? null) : null,
    providerChargeId: null,
    cardBrand: null,
    cardLast4: null,
    cardFingerprint: input.cardFingerprint,
    walletAccountId: input.source.type === 'wallet' ? input.source.accountId : null,
    customer: input.customer,
    description: input.description,
    metadata: input.metadata,
    failureCode: null,
    failureMessage: null,
    cancellationReason: null,
    settled: false,
    refunds: [],
    version: 1,
    createdAt: input.createdAt,
  };
}
