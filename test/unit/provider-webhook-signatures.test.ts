import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  paypalSignature,
  stripeSignatureHeader,
  verifyPayPalSignature,
  verifyStripeSignature,
} from '../../src/providers/webhook-signatures.ts';

const secret = 'whsec_test_secret';
const rawBody = '{"id":"evt_1","type":"charge.succeeded","data":{"object":{"amount":1050}}}';

describe('Stripe webhook signatures', () => {
  it('signs "<t>.<raw body>" with HMAC-SHA256 in hex', () => {
    const expected = createHmac('sha256', secret).update(`1764000000.${rawBody}`).digest('hex');
    expect(stripeSignatureHeader(secret, rawBody, 1_764_000_000)).toBe(`t=1764000000,v1=${expected}`);
  });

  it('verifies a fresh signature and refuses tampering, other secrets and stale timestamps', () => {
    const header = stripeSignatureHeader(secret, rawBody, 1_764_000_000);
    const check = (overrides: Partial<Parameters<typeof verifyStripeSignature>[0]>) =>
      verifyStripeSignature({
        header,
        rawBody,
        secret,
        nowSeconds: 1_764_000_100,
        toleranceSeconds: 300,
        ...overrides,
      });
    expect(check({})).toBe(true);
    expect(check({ rawBody: rawBody.replace('1050', '1051') })).toBe(false);
    expect(check({ secret: 'whsec_other' })).toBe(false);
    expect(check({ nowSeconds: 1_764_000_301 })).toBe(false);
    expect(check({ header: undefined })).toBe(false);
    expect(check({ header: 'garbage' })).toBe(false);
    expect(check({ header: header.replace(/v1=.*/, 'v1=00') })).toBe(false);
  });

  it('accepts any of several v1 signatures (secret rotation)', () => {
    const current = stripeSignatureHeader(secret, rawBody, 1_764_000_000);
    const header = `t=1764000000,v1=${'0'.repeat(64)},${current.split(',')[1]}`;
    expect(verifyStripeSignature({ header, rawBody, secret, nowSeconds: 1_764_000_000, toleranceSeconds: 300 })).toBe(
      true,
    );
  });
});

describe('PayPal webhook signatures', () => {
  const transmission = {
    transmissionId: 'b2384410-1f1f-11f0-a0d1-2d9d5b3c7e11',
    transmissionTime: '2026-11-25T10:00:00.000Z',
    rawBody,
  };

  it('signs "<id>|<time>|<sha256 hex of body>" with HMAC-SHA256 in base64', () => {
    const digest = createHash('sha256').update(rawBody).digest('hex');
    const expected = createHmac('sha256', secret)
      .update(`${transmission.transmissionId}|${transmission.transmissionTime}|${digest}`)
      .digest('base64');
    expect(paypalSignature(secret, transmission)).toBe(expected);
  });

  it('verifies a fresh signature and refuses tampering, other secrets and stale transmissions', () => {
    const signature = paypalSignature(secret, transmission);
    const nowMs = Date.parse('2026-11-25T10:01:00.000Z');
    const check = (overrides: Partial<Parameters<typeof verifyPayPalSignature>[0]>) =>
      verifyPayPalSignature({ ...transmission, signature, secret, nowMs, toleranceMs: 300_000, ...overrides });
    expect(check({})).toBe(true);
    expect(check({ rawBody: `${rawBody} ` })).toBe(false);
    expect(check({ transmissionId: 'other' })).toBe(false);
    expect(check({ secret: 'other' })).toBe(false);
    expect(check({ nowMs: nowMs + 600_000 })).toBe(false);
    expect(check({ signature: undefined })).toBe(false);
  });
});
