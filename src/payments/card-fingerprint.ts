import { createHash } from 'node:crypto';
import { isTestToken } from '../providers/test-tokens.ts';

/**
 * Velocity rules count by card without keeping the token itself. A published test token is no
 * one's card (src/providers/test-tokens.ts): it has no fingerprint, so only the per-customer
 * rule counts test payments, and one merchant can run a demo or a load test with `tok_visa`.
 */
export function cardFingerprint(token: string): string | null {
  if (isTestToken(token)) return null;
  return createHash('sha256').update(`card:${token}`).digest('hex').slice(0, 32);
}
