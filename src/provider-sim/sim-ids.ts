import { randomBytes } from 'node:crypto';
import { randomToken } from '../ids.ts';

// Ids that look like each provider's: Stripe "ch_…" (base62), PayPal 17 upper-case
// alphanumerics ("0VF52814937998046").

const upper = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function upperToken(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // Rejection sampling keeps every character equally likely (256 is not a multiple of 36).
      if (byte < 252) out += upper[byte % 36];
      if (out.length === length) break;
    }
  }
  return out;
}

export const stripeId = (prefix: 'ch' | 're' | 'dp' | 'evt' | 'po'): string => `${prefix}_${randomToken(24)}`;

export const paypalId = (): string => upperToken(17);
