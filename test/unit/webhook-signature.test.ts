import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  computeSignature,
  parseSignatureHeader,
  signWebhookPayload,
  verifyWebhookSignature,
} from '../../src/webhooks/signature.ts';

const secret = 'whsec_test_0123456789';
const body = '{"id":"evt_1","object":"event","type":"payment.succeeded","data":{"object":{"amount":1050}}}';
const t = 1_764_000_000;
const header = signWebhookPayload({ body, secret, timestampSeconds: t });

const check = (overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]> = {}) =>
  verifyWebhookSignature({ header, body, secret, toleranceSeconds: 300, nowSeconds: t + 10, ...overrides });

describe('outbound webhook signatures', () => {
  it('signs "<t>.<raw body>" with HMAC-SHA256 in hex', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(header).toBe(`t=1764000000,v1=${expected}`);
    expect(computeSignature(secret, t, Buffer.from(body))).toBe(expected);
  });

  it('verifies a fresh signature', () => {
    expect(check()).toEqual({ valid: true, timestampSeconds: t });
    expect(check({ body: Buffer.from(body) })).toEqual({ valid: true, timestampSeconds: t });
    expect(check({ header: [header] })).toEqual({ valid: true, timestampSeconds: t });
  });

  it('refuses another secret', () => {
    expect(check({ secret: 'whsec_other' })).toEqual({ valid: false, reason: 'no_matching_signature' });
  });

  it('refuses a tampered body, even by one byte or one space', () => {
    expect(check({ body: body.replace('1050', '1051') })).toEqual({ valid: false, reason: 'no_matching_signature' });
    expect(check({ body: `${body} ` })).toEqual({ valid: false, reason: 'no_matching_signature' });
  });

  it('refuses stale and future timestamps beyond the tolerance, at exactly the limit it accepts', () => {
    expect(check({ nowSeconds: t + 300 })).toEqual({ valid: true, timestampSeconds: t });
    expect(check({ nowSeconds: t + 301 })).toEqual({ valid: false, reason: 'timestamp_out_of_tolerance' });
    expect(check({ nowSeconds: t - 301 })).toEqual({ valid: false, reason: 'timestamp_out_of_tolerance' });
    expect(check({ nowSeconds: t + 86_400, toleranceSeconds: 0 })).toEqual({ valid: true, timestampSeconds: t });
  });

  it('refuses a re-timestamped signature (t is signed too)', () => {
    const forged = header.replace(`t=${t}`, `t=${t + 5}`);
    expect(check({ header: forged })).toEqual({ valid: false, reason: 'no_matching_signature' });
  });

  it('refuses missing and malformed headers', () => {
    expect(check({ header: undefined })).toEqual({ valid: false, reason: 'missing_header' });
    expect(check({ header: '' })).toEqual({ valid: false, reason: 'missing_header' });
    for (const bad of ['garbage', `t=${t}`, 'v1=00', `t=abc,v1=${'0'.repeat(64)}`, `t=${t},v1=zz`]) {
      expect(check({ header: bad })).toEqual({ valid: false, reason: 'malformed_header' });
    }
  });

  it('accepts any of several v1 signatures and any of several secrets (rotation)', () => {
    const old = 'whsec_old';
    const both = `t=${t},v1=${computeSignature(old, t, body)},v1=${computeSignature(secret, t, body)}`;
    expect(check({ header: both })).toEqual({ valid: true, timestampSeconds: t });
    expect(check({ secret: [old, secret] })).toEqual({ valid: true, timestampSeconds: t });
    expect(check({ secret: [old] })).toEqual({ valid: false, reason: 'no_matching_signature' });
  });

  it('parses headers with spaces and unknown schemes', () => {
    const v1 = computeSignature(secret, t, body);
    expect(parseSignatureHeader(` t=${t}, v0=abc, v1=${v1.toUpperCase()} `)).toEqual({
      timestampSeconds: t,
      signatures: [v1],
    });
  });

  it('refuses to sign with an invalid timestamp', () => {
    expect(() => signWebhookPayload({ body, secret, timestampSeconds: 1.5 })).toThrow(RangeError);
  });
});
