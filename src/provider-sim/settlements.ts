import type { SimCharge } from './processor.ts';

// The daily settlement report: what was captured and refunded on one UTC day, line by line
// and totalled per currency, optionally for one currency only. Built from the charges still
// held in memory (see maxCharges). Lines are in time order (ties by id), so a report is read
// page by page like a provider's list API.

export interface SettlementLine {
  kind: 'capture' | 'refund';
  /** The charge id for a capture, the refund id for a refund. */
  id: string;
  chargeId: string;
  paymentId: string | undefined;
  currency: string;
  /** Positive for both kinds; the personalities sign refunds as they show them. */
  amount: bigint;
  atMs: number;
}

export interface SettlementTotal {
  currency: string;
  captured: bigint;
  refunded: bigint;
  net: bigint;
  count: number;
}

export interface Settlement {
  date: string;
  lines: SettlementLine[];
  totals: SettlementTotal[];
}

const dayMs = 24 * 60 * 60 * 1000;

/** Start of a YYYY-MM-DD day in UTC, or undefined when it is not a calendar date. */
export function utcDayStartMs(date: string): number | undefined {
  const startMs = Date.parse(`${date}T00:00:00.000Z`);
  if (!Number.isFinite(startMs) || new Date(startMs).toISOString().slice(0, 10) !== date) return undefined;
  return startMs;
}

/** Lines a page holds by default, and at most (Stripe's lists stop at 100; reports go further). */
export const defaultSettlementPageSize = 100;
export const maxSettlementPageSize = 1_000;

export function settlementFor(
  charges: Iterable<SimCharge>,
  date: string,
  startMs: number,
  currency?: string | undefined,
): Settlement {
  const within = (atMs: number) => atMs >= startMs && atMs < startMs + dayMs;
  const lines: SettlementLine[] = [];
  for (const charge of charges) {
    if (currency !== undefined && charge.currency !== currency) continue;
    const base = { chargeId: charge.id, paymentId: charge.paymentId, currency: charge.currency };
    if (charge.capturedAtMs !== undefined && within(charge.capturedAtMs)) {
      lines.push({ ...base, kind: 'capture', id: charge.id, amount: charge.amountCaptured, atMs: charge.capturedAtMs });
    }
    for (const refund of charge.refunds) {
      if (within(refund.createdAtMs)) {
        lines.push({ ...base, kind: 'refund', id: refund.id, amount: refund.amount, atMs: refund.createdAtMs });
      }
    }
  }
  lines.sort((a, b) => a.atMs - b.atMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const totals = new Map<string, SettlementTotal>();
  for (const line of lines) {
    const total = totals.get(line.currency) ?? {
      currency: line.currency,
      captured: 0n,
      refunded: 0n,
      net: 0n,
      count: 0,
    };
    if (line.kind === 'capture') total.captured += line.amount;
    else total.refunded += line.amount;
    total.net = total.captured - total.refunded;
    total.count++;
    totals.set(line.currency, total);
  }
  return { date, lines, totals: [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency)) };
}

/** The lines after the one with id `startingAfter` (from the first without), at most `limit`. */
export function linesAfter(
  settlement: Settlement,
  startingAfter: string | undefined,
  limit: number,
): { lines: SettlementLine[]; hasMore: boolean } | undefined {
  const start = startingAfter === undefined ? 0 : settlement.lines.findIndex((line) => line.id === startingAfter) + 1;
  if (start === 0 && startingAfter !== undefined) return undefined;
  return { lines: settlement.lines.slice(start, start + limit), hasMore: start + limit < settlement.lines.length };
}
