import type { Db } from '../db/prisma.ts';
import { PaymentsError } from '../domain/errors.ts';
import { releaseHold } from './ledger.ts';

export interface HoldSweep {
  /** Holds this sweep ended with status 'expired'. */
  expired: number;
  /** Due holds that ended otherwise meanwhile (captured, released by their owner, expired by another sweep). */
  skipped: number;
  /** True when `limit` holds were due: more may be waiting for the next sweep. */
  limited: boolean;
}

/**
 * Ends active holds past their expires_at, the longest overdue first, at most `limit` of them.
 * Each goes through ledger_release_hold, which locks the hold row and re-checks that it is
 * still active, so a capture and the sweep never both take one hold: whichever locks it first
 * wins, and the other finds it ended (a capture then fails with hold_unexpected_state).
 * Idempotent: a hold already expired is not due any more, and releasing it again is a no-op.
 */
export async function expireDueHolds(prisma: Db, input: { limit: number }): Promise<HoldSweep> {
  const due = await prisma.hold.findMany({
    where: { status: 'active', expiresAt: { lte: new Date() } },
    orderBy: { expiresAt: 'asc' },
    take: input.limit,
    select: { reference: true },
  });
  const sweep: HoldSweep = { expired: 0, skipped: 0, limited: due.length === input.limit };
  for (const { reference } of due) {
    try {
      const { replayed } = await releaseHold(prisma, reference, 'expired');
      if (replayed) sweep.skipped++;
      else sweep.expired++;
    } catch (error) {
      if (!(error instanceof PaymentsError && error.code === 'hold_unexpected_state')) throw error;
      sweep.skipped++;
    }
  }
  return sweep;
}
