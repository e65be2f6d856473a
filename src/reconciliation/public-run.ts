import { Type, type Static, type TSchema } from 'typebox';
import { toJsonAmount } from '../domain/money.ts';
import { mismatchKinds, type MismatchKind } from '../domain/reconciliation.ts';

// The one public shape of a reconciliation run (admin): GET /v1/reconciliation/runs[/:id], the
// answer to POST /v1/reconciliation/runs and the `data.object` of reconciliation.run_completed.

const Totals = Type.Object({ captured: Type.Integer(), refunded: Type.Integer(), net: Type.Integer() });
const nullable = <T extends TSchema>(type: T) => Type.Union([type, Type.Null()]);

export const ReconciliationRun = Type.Object({
  id: Type.String(),
  object: Type.Literal('reconciliation_run'),
  provider: Type.String(),
  currency: Type.String(),
  date: Type.String({ description: 'UTC day, YYYY-MM-DD' }),
  status: Type.Union([Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')]),
  /** How often the day was run; figures are the latest execution's. */
  executions: Type.Integer(),
  provider_lines: Type.Integer(),
  ledger_transactions: Type.Integer(),
  matched: Type.Integer(),
  items: Type.Object({
    total: Type.Integer(),
    open: Type.Integer(),
    missing_in_ledger: Type.Integer(),
    missing_at_provider: Type.Integer(),
    amount_mismatch: Type.Integer(),
    duplicate: Type.Integer(),
  }),
  totals: Type.Object({ provider: Totals, ledger: Totals, agree: Type.Boolean() }),
  ledger_integrity: Type.Object({ healthy: nullable(Type.Boolean()), discrepancies: nullable(Type.Integer()) }),
  failure_code: nullable(Type.String()),
  started_at: Type.String({ format: 'date-time' }),
  completed_at: nullable(Type.String({ format: 'date-time' })),
});
export type ReconciliationRun = Static<typeof ReconciliationRun>;

/** A `reconciliation_runs` row. */
export interface ReconciliationRunFacts {
  id: string;
  provider: string;
  currency: string;
  date: Date;
  status: string;
  executions: number;
  providerLines: number;
  ledgerTransactions: number;
  matched: number;
  providerCaptured: bigint;
  providerRefunded: bigint;
  ledgerCaptured: bigint;
  ledgerRefunded: bigint;
  integrityHealthy: boolean | null;
  integrityDiscrepancies: number | null;
  error: string | null;
  startedAt: Date;
  completedAt: Date | null;
}

/** A run's items counted by kind and status. */
export interface ItemCounts {
  open: number;
  byKind: Record<MismatchKind, number>;
}

export const noItems: ItemCounts = {
  open: 0,
  byKind: Object.fromEntries(mismatchKinds.map((kind) => [kind, 0])) as Record<MismatchKind, number>,
};

function runStatus(status: string): ReconciliationRun['status'] {
  if (status !== 'running' && status !== 'completed' && status !== 'failed') {
    throw new Error(`reconciliation status ${status} is not a public one`);
  }
  return status;
}

function totals(captured: bigint, refunded: bigint) {
  return { captured: toJsonAmount(captured), refunded: toJsonAmount(refunded), net: toJsonAmount(captured - refunded) };
}

export function presentRun(run: ReconciliationRunFacts, items: ItemCounts): ReconciliationRun {
  const total = mismatchKinds.reduce((sum, kind) => sum + items.byKind[kind], 0);
  return {
    id: run.id,
    object: 'reconciliation_run',
    provider: run.provider,
    currency: run.currency,
    date: run.date.toISOString().slice(0, 10),
    status: runStatus(run.status),
    executions: run.executions,
    provider_lines: run.providerLines,
    ledger_transactions: run.ledgerTransactions,
    matched: run.matched,
    items: { total, open: items.open, ...items.byKind },
    totals: {
      provider: totals(run.providerCaptured, run.providerRefunded),
      ledger: totals(run.ledgerCaptured, run.ledgerRefunded),
      agree: run.providerCaptured === run.ledgerCaptured && run.providerRefunded === run.ledgerRefunded,
    },
    ledger_integrity: { healthy: run.integrityHealthy, discrepancies: run.integrityDiscrepancies },
    failure_code: run.error,
    started_at: run.startedAt.toISOString(),
    completed_at: run.completedAt?.toISOString() ?? null,
  };
}
