import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppDependencies } from '../app.ts';
import { reconcile, type Discrepancy } from '../../ledger/reconcile.ts';
import { withErrors } from '../schemas/common.ts';

// Figures are decimal strings here: a discrepancy can be any size, and this report must not
// fail exactly when the books are most wrong.
const DiscrepancySchema = Type.Object({
  kind: Type.String(),
  account_id: Type.Optional(Type.String()),
  entry_id: Type.Optional(Type.String()),
  currency: Type.Optional(Type.String()),
  expected: Type.String(),
  actual: Type.String(),
});

const Integrity = Type.Object({
  object: Type.Literal('ledger_integrity'),
  healthy: Type.Boolean(),
  discrepancies: Type.Array(DiscrepancySchema),
  checked_at: Type.String({ format: 'date-time' }),
});

function present(discrepancy: Discrepancy) {
  switch (discrepancy.kind) {
    case 'balance_mismatch':
      return {
        kind: discrepancy.kind,
        account_id: discrepancy.accountId,
        expected: `${discrepancy.fromEntries}`,
        actual: `${discrepancy.cached}`,
      };
    case 'held_mismatch':
      return {
        kind: discrepancy.kind,
        account_id: discrepancy.accountId,
        expected: `${discrepancy.fromHolds}`,
        actual: `${discrepancy.cached}`,
      };
    case 'balance_after_mismatch':
      return {
        kind: discrepancy.kind,
        account_id: discrepancy.accountId,
        entry_id: discrepancy.entryId,
        expected: `${discrepancy.runningSum}`,
        actual: `${discrepancy.recorded}`,
      };
    case 'currency_unbalanced':
      return { kind: discrepancy.kind, currency: discrepancy.currency, expected: '0', actual: `${discrepancy.sum}` };
  }
}

export async function ledgerAdminRoutes(app: FastifyInstance, deps: AppDependencies): Promise<void> {
  app.get(
    '/v1/ledger/integrity',
    { schema: { tags: ['admin'], response: withErrors({ 200: Integrity }) } },
    async () => {
      const discrepancies = await reconcile(deps.prisma);
      return {
        object: 'ledger_integrity' as const,
        healthy: discrepancies.length === 0,
        discrepancies: discrepancies.map(present),
        checked_at: new Date().toISOString(),
      };
    },
  );
}
