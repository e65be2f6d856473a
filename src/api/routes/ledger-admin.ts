import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppDependencies } from '../dependencies.ts';
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

const WebhookEventList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(
    Type.Object({
      id: Type.String(),
      provider: Type.String(),
      external_id: Type.String(),
      type: Type.String(),
      charge_id: Type.Union([Type.String(), Type.Null()]),
      payment_id: Type.Union([Type.String(), Type.Null()]),
      outcome: Type.String(),
      received_at: Type.String({ format: 'date-time' }),
      processed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
  ),
});

const maxWebhookEventPage = 100;

export async function ledgerAdminRoutes(app: FastifyInstance, deps: AppDependencies): Promise<void> {
  // Inbound provider events by outcome: `unmatched` ones are parked here for an operator,
  // never dropped silently.
  app.get(
    '/v1/admin/webhook_events',
    {
      schema: {
        tags: ['admin'],
        querystring: Type.Object(
          {
            outcome: Type.Optional(
              Type.Union([
                Type.Literal('pending'),
                Type.Literal('delivered'),
                Type.Literal('unmatched'),
                Type.Literal('ignored'),
              ]),
            ),
            limit: Type.Integer({ minimum: 1, maximum: maxWebhookEventPage, default: 50 }),
          },
          { additionalProperties: false },
        ),
        response: withErrors({ 200: WebhookEventList }),
      },
    },
    async (request) => {
      const { outcome, limit } = request.query as { outcome?: string; limit: number };
      const rows = await deps.prisma.webhookEvent.findMany({
        where: outcome ? { outcome } : {},
        orderBy: { receivedAt: 'desc' },
        take: limit,
      });
      return {
        object: 'list' as const,
        data: rows.map((row) => ({
          id: row.id,
          provider: row.provider,
          external_id: row.externalId,
          type: row.type,
          charge_id: row.chargeId,
          payment_id: row.paymentId,
          outcome: row.outcome,
          received_at: row.receivedAt.toISOString(),
          processed_at: row.processedAt?.toISOString() ?? null,
        })),
      };
    },
  );

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
