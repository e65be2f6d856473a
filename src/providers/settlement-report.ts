import type { ProviderName } from './provider-name.ts';

// A provider's daily settlement report in our terms, one page at a time: what it captured and
// refunded on one UTC day in one currency, line by line, and its own totals. The adapters
// (stripe-settlements.ts, paypal-settlements.ts) translate each provider's report and paging.

export interface SettlementLine {
  kind: 'capture' | 'refund';
  /** The provider's id of the line: the charge for a capture, the refund for a refund. */
  lineId: string;
  chargeId: string;
  /** Our payment id as the provider echoes it (Stripe's metadata, PayPal's custom_id). */
  paymentId: string | null;
  /** Positive for both kinds, in minor units. */
  amount: bigint;
  currency: string;
  occurredAt: Date;
}

export interface SettlementTotals {
  captured: bigint;
  refunded: bigint;
}

export interface SettlementPage {
  lines: SettlementLine[];
  /** The report's totals for the currency asked for (zero when it had nothing). */
  totals: SettlementTotals;
  /** Where the next page starts; null on the last page. */
  next: string | null;
}

export interface SettlementPageRequest {
  /** UTC day, YYYY-MM-DD. */
  date: string;
  /** ISO 4217, upper case. */
  currency: string;
  /** From a previous page's `next`; absent for the first page. */
  cursor?: string | null | undefined;
}

export interface SettlementReports {
  readonly provider: ProviderName;
  page(request: SettlementPageRequest): Promise<SettlementPage>;
  /** The currencies the day's report has lines in (its totals), upper case. */
  currencies(date: string): Promise<string[]>;
}

/** Lines asked for per page: within both providers' limits, a few hundred KB of JSON. */
export const settlementPageSize = 500;

/** A page is bulk data, not a payment on the critical path: it gets longer than a charge call. */
export const settlementReportTimeoutMs = 30_000;
