import type { SimCharge } from './processor.ts';

// The part of Stripe's search query language the simulator understands: metadata clauses
// joined by AND, as in `metadata['payment_id']:'pay_123' AND metadata['order']:'42'`. That is
// how a caller finds a charge by its own ids when an answer was lost.

/** At most this many clauses per query (Stripe allows 10). */
const maxClauses = 10;

const clause = /^metadata\['([^'\\]{1,40})'\]:'([^'\\]{0,500})'$/;

/** The metadata a query asks for, or undefined when the query is not one the simulator reads. */
export function parseChargeQuery(query: string): Record<string, string> | undefined {
  const parts = query.split(/\s+AND\s+/);
  if (parts.length > maxClauses) return undefined;
  const wanted: Record<string, string> = {};
  for (const part of parts) {
    const match = clause.exec(part.trim());
    if (!match) return undefined;
    const [, key = '', value = ''] = match;
    wanted[key] = value;
  }
  return wanted;
}

export function matchesQuery(charge: SimCharge, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([key, value]) => charge.metadata[key] === value);
}
