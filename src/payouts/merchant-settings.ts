import type { Db } from '../db/prisma.ts';
import { PaymentsError } from '../domain/errors.ts';
import {
  effectivePayoutSettings,
  type MerchantPayoutSettings,
  type PayoutDefaults,
  type PayoutSchedule,
} from '../domain/payout-settings.ts';

// A merchant's payout settings as stored on its row (null: the platform's default), read and
// changed by GET/POST /v1/payout_settings and read by POST /v1/payouts and the schedule.

export async function merchantPayoutSettings(
  db: Db,
  merchantId: string,
  defaults: PayoutDefaults,
): Promise<MerchantPayoutSettings> {
  const merchant = await db.merchant.findUnique({
    where: { id: merchantId },
    select: { payoutSchedule: true, payoutMinimumMinor: true },
  });
  if (!merchant) throw new Error(`authenticated merchant ${merchantId} has no row`);
  return effectivePayoutSettings(
    { schedule: merchant.payoutSchedule, minimumMinor: merchant.payoutMinimumMinor },
    defaults,
  );
}

/**
 * Sets what is given (undefined: unchanged; null: back to the default). A minimum below the
 * platform's is refused: the platform's minimum is a floor, not only a default.
 */
export async function updatePayoutSettings(
  db: Db,
  merchantId: string,
  change: { schedule?: PayoutSchedule | null | undefined; minimumMinor?: bigint | null | undefined },
  defaults: PayoutDefaults,
): Promise<MerchantPayoutSettings> {
  if (
    change.minimumMinor !== undefined &&
    change.minimumMinor !== null &&
    change.minimumMinor < defaults.minimumMinor
  ) {
    throw new PaymentsError(
      'parameter_invalid',
      `The minimum payout amount cannot be below the platform's minimum of ${defaults.minimumMinor}.`,
      'minimum_amount',
    );
  }
  await db.merchant.update({
    where: { id: merchantId },
    data: {
      ...(change.schedule === undefined ? {} : { payoutSchedule: change.schedule }),
      ...(change.minimumMinor === undefined ? {} : { payoutMinimumMinor: change.minimumMinor }),
    },
  });
  return merchantPayoutSettings(db, merchantId, defaults);
}
