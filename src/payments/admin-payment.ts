import { Type, type Static, type TSchema } from 'typebox';
import type { Db } from '../db/prisma.ts';
import { Payment, presentPayment, type PaymentFacts } from './public-payment.ts';

// An operator's view of a payment whose provider step stayed unknown after every lookup
// (GET /v1/admin/payments?status=requires_attention): the payment in its one public shape,
// whose merchant it is, and what is in doubt where since when, so the operator knows which
// provider to ask about which step.

const nullable = <T extends TSchema>(type: T) => Type.Union([type, Type.Null()]);

export const AdminPayment = Type.Object({
  object: Type.Literal('admin_payment'),
  merchant_id: Type.String(),
  payment: Payment,
  attention: nullable(
    Type.Object({
      /** authorize, capture, void or refund */
      step: Type.String(),
      provider: nullable(Type.String()),
      refund_id: nullable(Type.String()),
      /** How many scheduled lookups found nothing certain. */
      lookups: nullable(Type.Integer()),
      since: Type.String({ format: 'date-time' }),
    }),
  ),
});
export type AdminPayment = Static<typeof AdminPayment>;

export const AdminPaymentList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(AdminPayment),
  has_more: Type.Boolean(),
});

/** The largest page of the attention list. */
export const maxAdminPaymentPage = 100;

type AdminPaymentRow = PaymentFacts & { merchantId: string };

const text = (value: unknown) => (typeof value === 'string' ? value : null);

/** The rows with what their latest `payment.attention_required` event says is in doubt. */
export async function presentAdminPayments(db: Db, rows: readonly AdminPaymentRow[]): Promise<AdminPayment[]> {
  const events = await db.paymentEvent.findMany({
    where: { paymentId: { in: rows.map((row) => row.id) }, type: 'payment.attention_required' },
    orderBy: { version: 'desc' },
    select: { paymentId: true, data: true, createdAt: true },
  });
  return rows.map((row) => {
    const event = events.find((candidate) => candidate.paymentId === row.id);
    const data = (event?.data ?? {}) as Record<string, unknown>;
    return {
      object: 'admin_payment' as const,
      merchant_id: row.merchantId,
      payment: presentPayment(row),
      attention: event
        ? {
            step: text(data.step) ?? 'unknown',
            provider: text(data.provider),
            refund_id: text(data.refund_id),
            lookups: typeof data.lookups === 'number' ? data.lookups : null,
            since: event.createdAt.toISOString(),
          }
        : null,
    };
  });
}

export async function presentAdminPayment(db: Db, row: AdminPaymentRow): Promise<AdminPayment> {
  const [shown] = await presentAdminPayments(db, [row]);
  if (!shown) throw new Error(`payment ${row.id} was not presented`);
  return shown;
}
