import { describe, expect, it } from 'vitest';
import { PaymentsError } from '../../src/domain/errors.ts';
import { checkEndpointUrl, checkEventTypes, newEndpointSecret, subscribes } from '../../src/webhooks/endpoints.ts';
import { describeFailure } from '../../src/webhooks/sender.ts';
import { DestinationNotAllowedError } from '../../src/webhooks/destinations.ts';
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

  const publicOnly = { allowPrivateDestinations: false };
  const anywhere = { allowPrivateDestinations: true };

  it('accepts http(s) URLs only, without credentials or fragment', () => {
    expect(checkEndpointUrl('https://example.com/hooks?x=1', publicOnly)).toBe('https://example.com/hooks?x=1');
    expect(checkEndpointUrl('HTTP://Example.com', publicOnly)).toBe('http://example.com/');
    for (const url of ['ftp://example.com', '/relative', 'https://user:pw@example.com/', 'https://example.com/#top']) {
      expect(errorOf(() => checkEndpointUrl(url, anywhere))).toEqual(['parameter_invalid', 'url']);
    }
  });

  it('refuses non-public hosts in every spelling unless private destinations are allowed', () => {
    for (const url of [
      'http://localhost:9/x',
      'http://[::1]:9/',
      'http://0.0.0.0:9/',
      'http://2130706433:9/',
      'http://0x7f000001:9/',
      'http://0177.0.0.1:9/',
      'http://127.1:9/',
      'http://[::ffff:127.0.0.1]:9/',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
      'https://hooks.localhost/',
    ]) {
      expect(
        errorOf(() => checkEndpointUrl(url, publicOnly)),
        url,
      ).toEqual(['parameter_invalid', 'url']);
      expect(checkEndpointUrl(url, anywhere)).toBe(new URL(url).toString());
    }
    expect(() => checkEndpointUrl('http://2130706433:9/', publicOnly)).toThrow(
      'The url must point to a public internet address; 127.0.0.1 is a loopback address.',
    );
    expect(checkEndpointUrl('https://8.8.8.8/hooks', publicOnly)).toBe('https://8.8.8.8/hooks');
  });

  it('checks event types against the catalog, or "*" alone; duplicates dropped', () => {
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
    // The index is the request's, duplicates included.
    expect(errorOf(() => checkEventTypes(['refund.succeeded', 'refund.succeeded', 'payment.succeded']))).toEqual([
      'parameter_invalid',
      'events.2',
    ]);
    expect(() => checkEventTypes(['payment.succeded'])).toThrow('Unknown event type: "payment.succeded".');
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
    expect(describeFailure(new DestinationNotAllowedError('localhost', 'it resolves to a loopback address'))).toBe(
      'destination_not_allowed',
    );
    expect(describeFailure(new Error('x'))).toBe('connection_error');
  });
});
