import { describe, expect, it } from 'vitest';
import { maxRetryAfterMs, retryAfterMs } from '../../src/webhooks/retry-after.ts';

const now = Date.parse('2026-12-06T14:00:00Z');

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates on 429 and 503, capped', () => {
    expect(retryAfterMs(429, '2', now)).toBe(2_000);
    expect(retryAfterMs(503, ['30'], now)).toBe(30_000);
    expect(retryAfterMs(503, 'Sun, 06 Dec 2026 14:00:05 GMT', now)).toBe(5_000);
    expect(retryAfterMs(503, 'Sun, 06 Dec 2026 13:59:00 GMT', now)).toBe(0);
    expect(retryAfterMs(429, '9999999999', now)).toBe(maxRetryAfterMs);
    expect(retryAfterMs(503, 'Tue, 06 Dec 2036 14:00:00 GMT', now)).toBe(maxRetryAfterMs);
  });

  it('ignores other statuses, no header, and what is not a delay or a date', () => {
    expect(retryAfterMs(500, '2', now)).toBeNull();
    expect(retryAfterMs(200, '2', now)).toBeNull();
    expect(retryAfterMs(429, undefined, now)).toBeNull();
    expect(retryAfterMs(429, '', now)).toBeNull();
    for (const bad of ['-1', '1.5', 'soon', '2026-12-06T14:00:05Z', ' 12345678901']) {
      expect(retryAfterMs(429, bad, now), bad).toBeNull();
    }
  });
});
