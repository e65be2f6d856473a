import type { Db, Prisma } from '../db/prisma.ts';
import type { ColumnCipher } from '../crypto/column-cipher.ts';

// Velocity facts for the risk rules (src/domain/risk.ts) for the first payment workflow version:
// the merchant's earlier payments by this customer and by this card within the window, from the
// read model. The current version counts in the statement that opens the payment.

export interface RiskFactsQuery {
  paymentId: string;
  /** Velocity is counted per merchant: one tenant's traffic never blocks another's customers. */
  merchantId: string;
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

export async function riskFacts(db: Db, query: RiskFactsQuery, cipher: ColumnCipher): Promise<RiskFacts> {
  const since = new Date(query.at.getTime() - query.windowMs);
  const count = (where: Prisma.PaymentWhereInput) =>
    db.payment.count({
      where: { ...where, merchantId: query.merchantId, id: { not: query.paymentId }, createdAt: { gte: since } },
    });
  const [customerPaymentsInWindow, cardPaymentsInWindow] = await Promise.all([
    // By the customer's blind index under every key: the column itself is ciphertext.
    query.customer ? count({ customerIndex: { in: cipher.indexes('payments.customer', query.customer) } }) : 0,
    query.cardFingerprint ? count({ cardFingerprint: query.cardFingerprint }) : 0,
  ]);
  return { customerPaymentsInWindow, cardPaymentsInWindow };
}
