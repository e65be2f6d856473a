import { describe, expect, it } from 'vitest';
import { PaymentsError } from '../../src/domain/errors.ts';
import { checkEndpointUrl, checkEventTypes, newEndpointSecret, subscribes } from '../../src/webhooks/endpoints.ts';
import { describeFailure } from '../../src/webhooks/sender.ts';
import { nextDelay } from '../../workflows/delivery.ts';

const errorOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error instanceof PaymentsError ? [error.code, error.param] : error;
  }
  return undefined;
};

describe('webhook endpoint rules', () => {
  it('subscribes to "*" or to the exact type', () => {
    expect(subscribes(['*'], 'payment.succeeded')).toBe(true);
    expect(subscribes(['payment.succeeded'], 'payment.succeeded')).toBe(true);
    expect(subscribes(['payment.succeeded'], 'payment.failed')).toBe(false);
    expect(subscribes(['payment.succeeded', 'refund.succeeded'], 'refund.succeeded')).toBe(true);
  });

  it('accepts http(s) URLs only, without credentials or fragment', () => {
    expect(checkEndpointUrl('https://example.com/hooks?x=1')).toBe('https://example.com/hooks?x=1');
    expect(checkEndpointUrl('HTTP://Example.com')).toBe('http://example.com/');
    expect(errorOf(() => checkEndpointUrl('ftp://example.com'))).toEqual(['parameter_invalid', 'url']);
    expect(errorOf(() => checkEndpointUrl('/relative'))).toEqual(['parameter_invalid', 'url']);
    expect(errorOf(() => checkEndpointUrl('https://user:pw@example.com/'))).toEqual(['parameter_invalid', 'url']);
    expect(errorOf(() => checkEndpointUrl('https://example.com/#top'))).toEqual(['parameter_invalid', 'url']);
  });

  it('checks event types: dotted names, or "*" alone; duplicates dropped', () => {
    expect(checkEventTypes(['payment.succeeded', 'payment.succeeded', 'refund.succeeded'])).toEqual([
      'payment.succeeded',
      'refund.succeeded',
    ]);
    expect(checkEventTypes(['*', '*'])).toEqual(['*']);
    expect(errorOf(() => checkEventTypes(['*', 'payment.succeeded']))).toEqual(['parameter_invalid', 'events']);
    expect(errorOf(() => checkEventTypes(['payment.succeeded', 'Payment Succeeded']))).toEqual([
      'parameter_invalid',
      'events.1',
    ]);
    expect(errorOf(() => checkEventTypes(['payment']))).toEqual(['parameter_invalid', 'events.0']);
    expect(errorOf(() => checkEventTypes([]))).toEqual(['parameter_invalid', 'events']);
  });

  it('makes whsec_ secrets with 32 random characters', () => {
    const a = newEndpointSecret();
    expect(a).toMatch(/^whsec_[0-9A-Za-z]{32}$/);
    expect(newEndpointSecret()).not.toBe(a);
  });
});

describe('delivery schedule and failures', () => {
  it('doubles the wait up to the maximum', () => {
    const schedule = { initialRetryMs: 100, maxRetryMs: 400 };
    const waits = [100];
    for (let i = 0; i < 4; i++) waits.push(nextDelay(waits.at(-1) as number, schedule));
    expect(waits).toEqual([100, 200, 400, 400, 400]);
    expect(nextDelay(60_000, { initialRetryMs: 60_000, maxRetryMs: 6 * 3_600_000 })).toBe(120_000);
  });

  it('names connection failures without internals', () => {
    expect(describeFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('connection_refused');
    expect(describeFailure(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))).toBe('timeout');
    expect(describeFailure(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe('timeout');
    expect(describeFailure(Object.assign(new Error('x'), { code: 'ENOTFOUND' }))).toBe('dns_failure');
    expect(describeFailure(Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED' }))).toBe('tls_error');
    expect(describeFailure(new Error('x'))).toBe('connection_error');
  });
});
