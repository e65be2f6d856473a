import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { createHttpClient, expectBody } from './http.ts';
import { errorFromStripe } from './stripe.ts';
import { settlementPageSize, type SettlementLine, type SettlementReports } from './settlement-report.ts';

// Stripe's settlement report (the simulator's /v1/settlements, shaped like Stripe's balance
// transactions): integer amounts, refunds negative, lower-case currencies, paged by
// `starting_after` the last line's id while `has_more`.

export interface StripeSettlementOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Lines per page; the provider's own limit caps it. */
  pageSize?: number;
  apiKey?: string;
}

const StripeSettlementReport = Type.Object({
  object: Type.Literal('settlement_report'),
  totals: Type.Array(
    Type.Object({
      currency: Type.String({ minLength: 3, maxLength: 3 }),
      captured: Type.Integer({ minimum: 0 }),
      refunded: Type.Integer({ minimum: 0 }),
    }),
  ),
  data: Type.Array(
    Type.Object({
      id: Type.String({ minLength: 1 }),
      type: Type.String(),
      charge: Type.String({ minLength: 1 }),
      amount: Type.Integer(),
      currency: Type.String({ minLength: 3, maxLength: 3 }),
      created: Type.Integer({ minimum: 0 }),
      metadata: Type.Record(Type.String(), Type.String()),
    }),
  ),
  has_more: Type.Boolean(),
});

const reportValidator = Compile(StripeSettlementReport);

/** Stripe's balance transaction types we reconcile; anything else (fees, payouts) is not a card movement. */
const kinds: Record<string, SettlementLine['kind']> = { charge: 'capture', refund: 'refund' };

export function createStripeSettlementReports(options: StripeSettlementOptions): SettlementReports {
  const pageSize = options.pageSize ?? settlementPageSize;
  const http = createHttpClient({
    provider: 'stripe',
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
  });
  async function fetchReport(query: URLSearchParams) {
    const response = await http.send('GET', `/v1/settlements?${query.toString()}`);
    if (response.status !== 200) throw errorFromStripe(response);
    return expectBody('stripe', reportValidator, response);
  }

  return {
    provider: 'stripe',
    async currencies(date) {
      const report = await fetchReport(new URLSearchParams({ date, limit: '1' }));
      return report.totals.map((total) => total.currency.toUpperCase());
    },
    async page({ date, currency, cursor }) {
      const query = new URLSearchParams({ date, currency: currency.toLowerCase(), limit: String(pageSize) });
      if (cursor) query.set('starting_after', cursor);
      const report = await fetchReport(query);
      const lines = report.data.flatMap((line): SettlementLine[] => {
        const kind = kinds[line.type];
        if (!kind) return [];
        return [
          {
            kind,
            lineId: line.id,
            chargeId: line.charge,
            paymentId: line.metadata.payment_id ?? null,
            amount: BigInt(Math.abs(line.amount)),
            currency: line.currency.toUpperCase(),
            occurredAt: new Date(line.created * 1_000),
          },
        ];
      });
      const total = report.totals.find((candidate) => candidate.currency.toUpperCase() === currency);
      const last = report.data.at(-1);
      return {
        lines,
        totals: { captured: BigInt(total?.captured ?? 0), refunded: BigInt(total?.refunded ?? 0) },
        next: report.has_more && last ? last.id : null,
      };
    },
  };
}
