import { PaymentsError } from '../domain/errors.ts';

// Failed authentication, limited per client address: guessing keys costs a caller its address's
// budget, however many different keys it tries. A fixed one-minute window per address, in
// memory per API process, with a bound on how many addresses it remembers.

export const authFailureWindowMs = 60_000;
/** Addresses tracked at once; past this the oldest windows are dropped first. */
export const maxTrackedAddresses = 10_000;

interface Window {
  startedAtMs: number;
  failures: number;
}

export interface AuthFailureLimiter {
  /** Counts one failure of `address`; throws rate_limited once it is past the limit. */
  failed(address: string, nowMs?: number): void;
  /** Throws rate_limited while `address` is past the limit, before any key is checked. */
  check(address: string, nowMs?: number): void;
}

export function createAuthFailureLimiter(maxFailuresPerMinute: number): AuthFailureLimiter {
  const windows = new Map<string, Window>();
  const current = (address: string, nowMs: number): Window => {
    let window = windows.get(address);
    if (!window || nowMs - window.startedAtMs >= authFailureWindowMs) {
      windows.delete(address);
      if (windows.size >= maxTrackedAddresses) {
        const oldest = windows.keys().next();
        if (!oldest.done) windows.delete(oldest.value);
      }
      window = { startedAtMs: nowMs, failures: 0 };
      windows.set(address, window);
    }
    return window;
  };
  const refuse = () => {
    throw new PaymentsError('rate_limited', 'Too many failed authentications from this address; retry later.');
  };
  return {
    failed(address, nowMs = Date.now()) {
      const window = current(address, nowMs);
      window.failures += 1;
      if (window.failures > maxFailuresPerMinute) refuse();
    },
    check(address, nowMs = Date.now()) {
      if (current(address, nowMs).failures >= maxFailuresPerMinute) refuse();
    },
  };
}
