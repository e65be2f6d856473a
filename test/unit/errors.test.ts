import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalog, isErrorCode, nonRetryableErrorCodes } from '../../src/domain/errors.ts';

describe('error catalog', () => {
  it('is documented whole in the README: every code with its status and type, and nothing else', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^ *\| `([a-z_]+)` +\| (\d{3}) +\| `([a-z_]+)` +\|/gm)].map((match) => ({
      code: match[1],
      status: Number(match[2]),
      type: match[3],
    }));
    const catalog = Object.entries(errorCatalog).map(([code, entry]) => ({
      code,
      status: entry.status,
      type: entry.type,
    }));
    const byCode = (a: { code?: string }, b: { code?: string }) => String(a.code).localeCompare(String(b.code));
    expect(rows.sort(byCode)).toEqual(catalog.sort(byCode));
  });

  it('maps codes to the HTTP statuses the API promises', () => {
    expect(errorCatalog.parameter_invalid.status).toBe(400);
    expect(errorCatalog.api_key_invalid.status).toBe(401);
    expect(errorCatalog.resource_missing.status).toBe(404);
    expect(errorCatalog.idempotency_request_in_progress.status).toBe(409);
    expect(errorCatalog.idempotency_key_reused.status).toBe(422);
    expect(errorCatalog.rate_limited.status).toBe(429);
    expect(errorCatalog.internal_error.status).toBe(500);
  });

  it('never retries business errors and always retries outages', () => {
    expect(nonRetryableErrorCodes).toContain('insufficient_funds');
    expect(nonRetryableErrorCodes).toContain('parameter_invalid');
    expect(nonRetryableErrorCodes).not.toContain('service_unavailable');
    expect(nonRetryableErrorCodes).not.toContain('internal_error');
  });

  it('recognises only catalogued codes', () => {
    expect(isErrorCode('insufficient_funds')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
  });
});
