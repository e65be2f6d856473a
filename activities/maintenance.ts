import type { PrismaClient } from '../src/db/prisma.ts';
import { reconcile } from '../src/ledger/reconcile.ts';
import { expireDueHolds, type HoldSweep } from '../src/ledger/hold-sweep.ts';

export function createMaintenanceActivities(prisma: PrismaClient) {
  return {
    /** Forgets idempotency keys past their retention (24 h by default), as Stripe does. */
    async purgeIdempotencyKeys(input: { olderThanMs: number }): Promise<number> {
      const { count } = await prisma.idempotencyKey.deleteMany({
        where: { createdAt: { lt: new Date(Date.now() - input.olderThanMs) } },
      });
      return count;
    },

    /**
     * Releases active holds past their expiry (status 'expired'), at most `limit` per run: the
     * backstop for a hold whose workflow never ended it.
     */
    async expireHolds(input: { limit: number }): Promise<HoldSweep> {
      const sweep = await expireDueHolds(prisma, input);
      if (sweep.limited)
        process.stderr.write(`[hold sweep] ${input.limit} holds due: the rest wait for the next run\n`);
      return sweep;
    },

    /** The books' self-check; any discrepancy is logged loudly for an operator. */
    async checkLedgerIntegrity(): Promise<number> {
      const discrepancies = await reconcile(prisma);
      if (discrepancies.length > 0) {
        const shown = JSON.stringify(discrepancies.slice(0, 20), (_key, value: unknown) =>
          typeof value === 'bigint' ? value.toString() : value,
        );
        process.stderr.write(`[ledger integrity] ${discrepancies.length} discrepancies: ${shown}\n`);
      }
      return discrepancies.length;
    },
  };
}
