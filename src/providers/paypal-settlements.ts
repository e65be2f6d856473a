import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { PaymentsError } from '../domain/errors.ts';
import { createHttpClient, expectBody } from './http.ts';
import { errorFromPayPal } from './paypal.ts';
import { fromPayPalMoney } from './paypal-amount.ts';
import { settlementPageSize, type SettlementLine, type SettlementReports } from './settlement-report.ts';

// PayPal's settlement report (the simulator's /v1/reporting/settlements, shaped like PayPal's
// transaction search): decimal-string amounts, refunds negative, paged by page number up to
// `total_pages`.

export interface PayPalSettlementOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Lines per page; the provider's own limit caps it. */
  pageSize?: number;
  accessToken?: string;
}

const Money = Type.Object({ currency_code: Type.String({ minLength: 3, maxLength: 3 }), value: Type.String() });

const PayPalSettlementReport = Type.Object({
  totals: Type.Array(Type.Object({ currency_code: Type.String(), captured: Money, refunded: Money })),
  transaction_details: Type.Array(
    Type.Object({
      transaction_info: Type.Object({
        transaction_id: Type.String({ minLength: 1 }),
        paypal_reference_id: Type.String({ minLength: 1 }),
        transaction_event_code: Type.String(),
        transaction_initiation_date: Type.String(),
        transaction_amount: Money,
        custom_field: Type.Union([Type.String(), Type.Null()]),
      }),
    }),
  ),
  page: Type.Integer({ minimum: 1 }),
  total_pages: Type.Integer({ minimum: 1 }),
});

const reportValidator = Compile(PayPalSettlementReport);

/** PayPal's event codes we reconcile: T0006 a checkout payment's capture, T1107 a merchant refund. */
const kinds: Record<string, SettlementLine['kind']> = { T0006: 'capture', T1107: 'refund' };

export function createPayPalSettlementReports(options: PayPalSettlementOptions): SettlementReports {
  const pageSize = options.pageSize ?? settlementPageSize;
  const http = createHttpClient({
    provider: 'paypal',
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    headers: options.accessToken ? { authorization: `Bearer ${options.accessToken}` } : {},
  });
  async function fetchReport(query: URLSearchParams) {
    const response = await http.send('GET', `/v1/reporting/settlements?${query.toString()}`);
    if (response.status !== 200) throw errorFromPayPal(response);
    return expectBody('paypal', reportValidator, response);
  }

  return {
    provider: 'paypal',
    async currencies(date) {
      const report = await fetchReport(new URLSearchParams({ date, page_size: '1' }));
      return report.totals.map((total) => total.currency_code);
    },
    async page({ date, currency, cursor }) {
      const query = new URLSearchParams({
        date,
        transaction_currency: currency,
        page: cursor ?? '1',
        page_size: String(pageSize),
      });
      const report = await fetchReport(query);
      const lines = report.transaction_details.flatMap(({ transaction_info: line }): SettlementLine[] => {
        const kind = kinds[line.transaction_event_code];
        if (!kind) return [];
        const amount = fromPayPalMoney(line.transaction_amount);
        const occurredAt = new Date(line.transaction_initiation_date);
        if (Number.isNaN(occurredAt.getTime())) {
          throw new PaymentsError('provider_unavailable', 'paypal reported a transaction without a valid date.');
        }
        return [
          {
            kind,
            lineId: line.transaction_id,
            chargeId: line.paypal_reference_id,
            paymentId: line.custom_field,
            amount: amount < 0n ? -amount : amount,
            currency: line.transaction_amount.currency_code,
            occurredAt,
          },
        ];
      });
      const total = report.totals.find((candidate) => candidate.currency_code === currency);
      return {
        lines,
        totals: {
          captured: total ? fromPayPalMoney(total.captured) : 0n,
          refunded: total ? fromPayPalMoney(total.refunded) : 0n,
        },
        next: report.page < report.total_pages ? String(report.page + 1) : null,
      };
    },
  };
}
