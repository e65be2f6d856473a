import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

// The two webhook signing schemes the simulator uses and a receiver must check. Stripe's is
// the real one; PayPal's real scheme is RSA with a certificate, so the simulator signs the
// same message (transmission id | time | sha256 of the body) with an HMAC over a shared secret.

/** Stripe-Signature header value: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. */
export function stripeSignatureHeader(secret: string, rawBody: string, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${stripeSignature(secret, rawBody, timestampSeconds)}`;
}

export function stripeSignature(secret: string, rawBody: string, timestampSeconds: number): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${rawBody}`).digest('hex');
}

export interface StripeVerification {
  header: string | undefined;
  rawBody: string;
  secret: string;
  nowSeconds: number;
  /** Signatures older (or newer) than this are refused, so a captured request cannot be replayed later. */
  toleranceSeconds: number;
}

export function verifyStripeSignature({
  header,
  rawBody,
  secret,
  nowSeconds,
  toleranceSeconds,
}: StripeVerification): boolean {
  if (!header) return false;
  const parts = header.split(',').map((part) => part.split('=', 2) as [string, string | undefined]);
  const timestamp = Number(parts.find(([key]) => key === 't')?.[1]);
  if (!Number.isSafeInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = stripeSignature(secret, rawBody, timestamp);
  // Several v1 entries appear while a secret is being rolled; any one of them may match.
  return parts.some(([key, value]) => key === 'v1' && value !== undefined && equalText(value, expected));
}

export interface PayPalTransmission {
  transmissionId: string;
  /** ISO 8601, as sent in PayPal-Transmission-Time. */
  transmissionTime: string;
  rawBody: string;
}

/** PayPal-Transmission-Sig value: base64 HMAC-SHA256(secret, "<id>|<time>|<hex sha256(raw body)>"). */
export function paypalSignature(
  secret: string,
  { transmissionId, transmissionTime, rawBody }: PayPalTransmission,
): string {
  const bodyDigest = createHash('sha256').update(rawBody).digest('hex');
  return createHmac('sha256', secret).update(`${transmissionId}|${transmissionTime}|${bodyDigest}`).digest('base64');
}

export interface PayPalVerification extends PayPalTransmission {
  signature: string | undefined;
  secret: string;
  nowMs: number;
  toleranceMs: number;
}

export function verifyPayPalSignature({
  signature,
  secret,
  nowMs,
  toleranceMs,
  ...transmission
}: PayPalVerification): boolean {
  if (!signature) return false;
  const sentAtMs = Date.parse(transmission.transmissionTime);
  if (!Number.isFinite(sentAtMs) || Math.abs(nowMs - sentAtMs) > toleranceMs) return false;
  return equalText(signature, paypalSignature(secret, transmission));
}

function equalText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
