import { Type, type Static, type TSchema } from 'typebox';
import { toJsonAmount } from '../domain/money.ts';
import { mismatchKinds, type MismatchKind } from '../domain/reconciliation.ts';

// The one public shape of a reconciliation item (admin): GET /v1/reconciliation/runs/:id/items,
// POST /v1/reconciliation/items/:id/resolve and the `data.object` of
// reconciliation.mismatch_found. It names the provider's lines and our ledger transactions the
// mismatch is about, so an operator can look at both sides.

const nullable = <T extends TSchema>(type: T) => Type.Union([type, Type.Null()]);

export const ReconciliationItem = Type.Object({
  id: Type.String(),
  object: Type.Literal('reconciliation_item'),
  run_id: Type.String(),
  kind: Type.Union([
    Type.Literal('missing_in_ledger'),
    Type.Literal('missing_at_provider'),
    Type.Literal('amount_mismatch'),
    Type.Literal('duplicate'),
  ]),
  /** What the lines and transactions are: a capture or a refund. */
  subject: Type.Union([Type.Literal('capture'), Type.Literal('refund')]),
  status: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
  payment_id: nullable(Type.String()),
  currency: Type.String(),
  provider_line_ids: Type.Array(Type.String()),
  ledger_transaction_ids: Type.Array(Type.String()),
  /** Sums of each side; null when that side has nothing. */
  provider_amount: nullable(Type.Integer()),
  ledger_amount: nullable(Type.Integer()),
  note: nullable(Type.String()),
  resolved_at: nullable(Type.String({ format: 'date-time' })),
  created_at: Type.String({ format: 'date-time' }),
});
export type ReconciliationItem = Static<typeof ReconciliationItem>;

/** A `reconciliation_items` row with its run's currency. */
export interface ReconciliationItemFacts {
  id: string;
  runId: string;
  kind: string;
  subject: string;
  status: string;
  paymentId: string | null;
  currency: string;
  providerLineIds: string[];
  ledgerTransactionIds: string[];
  providerAmount: bigint | null;
  ledgerAmount: bigint | null;
  note: string | null;
  resolvedAt: Date | null;
  createdAt: Date;
}

export function isMismatchKind(kind: string): kind is MismatchKind {
  return (mismatchKinds as readonly string[]).includes(kind);
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`${what} ${value} is not a public one`);
  return value as T;
}

const amount = (value: bigint | null) => (value === null ? null : toJsonAmount(value));

export function presentItem(item: ReconciliationItemFacts): ReconciliationItem {
  return {
    id: item.id,
    object: 'reconciliation_item',
    run_id: item.runId,
    kind: oneOf(item.kind, mismatchKinds, 'reconciliation item kind'),
    subject: oneOf(item.subject, ['capture', 'refund'] as const, 'reconciliation item subject'),
    status: oneOf(item.status, ['open', 'resolved'] as const, 'reconciliation item status'),
    payment_id: item.paymentId,
    currency: item.currency,
    provider_line_ids: item.providerLineIds,
    ledger_transaction_ids: item.ledgerTransactionIds,
    provider_amount: amount(item.providerAmount),
    ledger_amount: amount(item.ledgerAmount),
    note: item.note,
    resolved_at: item.resolvedAt?.toISOString() ?? null,
    created_at: item.createdAt.toISOString(),
  };
}
