import { createHash } from 'node:crypto';

// A payout's id (`pyo_…`, also its workflow id) is derived from what makes it unique, so every
// retry names the same payout: the merchant and its Idempotency-Key for POST /v1/payouts, the
// merchant, currency and day for the schedule's (at most one scheduled payout per day each).

function derived(key: string): string {
  return `pyo_${createHash('sha256').update(key).digest('base64url').slice(0, 22)}`;
}

export function requestedPayoutId(merchantId: string, idempotencyKey: string): string {
  return derived(`payout:${merchantId}:${idempotencyKey}`);
}

export function scheduledPayoutId(merchantId: string, currency: string, date: string): string {
  return derived(`payout:${merchantId}:scheduled:${currency}:${date}`);
}
