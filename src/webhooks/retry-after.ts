// A receiver's Retry-After on 429 Too Many Requests or 503 Service Unavailable (RFC 9110
// 10.2.3): delay-seconds or an HTTP date. The delivery waits at least that long before its next
// attempt, never more than maxRetryAfterMs (a receiver cannot park a delivery for ever; the
// delivery's maximum age still applies). Pure: the caller passes the clock.

/** The longest wait a Retry-After can ask for. */
export const maxRetryAfterMs = 24 * 60 * 60 * 1000;

const honouredStatuses: ReadonlySet<number> = new Set([429, 503]);

/** The wait asked for, in ms (0 for a date already past), or null when there is none to honour. */
export function retryAfterMs(statusCode: number, header: string | string[] | undefined, nowMs: number): number | null {
  if (!honouredStatuses.has(statusCode)) return null;
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return null;
  if (/^\d{1,10}$/.test(value)) return Math.min(Number(value) * 1000, maxRetryAfterMs);
  // An IMF-fixdate ("Sun, 06 Dec 2026 14:30:00 GMT"); anything else is ignored.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value)) return null;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, at - nowMs), maxRetryAfterMs);
}
