import type { Db, Prisma } from '../db/prisma.ts';

// Velocity facts for the risk rules (src/domain/risk.ts): earlier payments by this customer
// and by this card within the window, from the read model.

export interface RiskFactsQuery {
  paymentId: string;
  customer: string | null;
  cardFingerprint: string | null;
  windowMs: number;
  /** The instant the window ends: the payment's creation, so a retry counts the same rows. */
  at: Date;
}

export interface RiskFacts {
  customerPaymentsInWindow: number;
  cardPaymentsInWindow: number;
}

export async function riskFacts(db: Db, query: RiskFactsQuery): Promise<RiskFacts> {
  const since = new Date(query.at.getTime() - query.windowMs);
  const count = (where: Prisma.PaymentWhereInput) =>
    db.payment.count({ where: { ...where, id: { not: query.paymentId }, createdAt: { gte: since } } });
  const [customerPaymentsInWindow, cardPaymentsInWindow] = await Promise.all([
    query.customer ? count({ customer: query.customer }) : 0,
    query.cardFingerprint ? count({ cardFingerprint: query.cardFingerprint }) : 0,
  ]);
  return { customerPaymentsInWindow, cardPaymentsInWindow };
}
