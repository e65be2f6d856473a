import { createHmac, timingSafeEqual } from 'node:crypto';

// Signatures on outbound webhooks, the scheme merchants check on their side:
//
//   Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(endpoint secret, "<t>.<raw body>")>
//
// Signing the timestamp with the body lets a receiver refuse a captured request replayed later
// (toleranceSeconds). Pure: no clock, no I/O; the caller passes the time.

export const signatureHeaderName = 'Signature';
/** What receivers should accept by default: five minutes either way. */
export const defaultToleranceSeconds = 300;

/** Hex HMAC-SHA256 of "<t>.<raw body>". */
export function computeSignature(secret: string, timestampSeconds: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest('hex');
}

/** The Signature header value for one request: one v1 per secret (two while one is being rolled). */
export function signWebhookPayload({
  body,
  secret,
  timestampSeconds,
}: {
  body: string | Buffer;
  secret: string | readonly string[];
  timestampSeconds: number;
}): string {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError('timestampSeconds must be a non-negative integer');
  }
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new Error('at least one secret signs a webhook');
  const signatures = secrets.map((each) => `v1=${computeSignature(each, timestampSeconds, body)}`);
  return `t=${timestampSeconds},${signatures.join(',')}`;
}

export interface WebhookSignatureCheck {
  /** The Signature header as received (undefined when missing). */
  header: string | string[] | undefined;
  /** The raw request body, byte for byte: never a re-serialized JSON object. */
  body: string | Buffer;
  /** The endpoint secret (whsec_…); several while one is being rotated. */
  secret: string | readonly string[];
  /** Refuse timestamps further than this from now (default 300 s). 0 disables the check. */
  toleranceSeconds?: number;
  /** The receiver's clock, in unix seconds (default: now). */
  nowSeconds?: number;
}

export type WebhookSignatureResult =
  | { valid: true; timestampSeconds: number }
  | {
      valid: false;
      reason: 'missing_header' | 'malformed_header' | 'timestamp_out_of_tolerance' | 'no_matching_signature';
    };

/** Parses `t=…,v1=…[,v1=…]`; unknown keys (future schemes) are ignored. */
export function parseSignatureHeader(header: string): { timestampSeconds: number; signatures: string[] } | undefined {
  let timestampSeconds: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator <= 0) continue;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't' && /^\d{1,15}$/.test(value)) timestampSeconds = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase());
  }
  if (timestampSeconds === undefined || signatures.length === 0) return undefined;
  return { timestampSeconds, signatures };
}

/**
 * Checks a webhook the way a merchant's receiver should: the header parses, its timestamp is
 * within the tolerance, and one of its v1 signatures is the HMAC of "<t>.<raw body>" under one
 * of the secrets (compared in constant time).
 */
export function verifyWebhookSignature({
  header,
  body,
  secret,
  toleranceSeconds = defaultToleranceSeconds,
  nowSeconds = Math.floor(Date.now() / 1000),
}: WebhookSignatureCheck): WebhookSignatureResult {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') return { valid: false, reason: 'missing_header' };
  const parsed = parseSignatureHeader(value);
  if (!parsed) return { valid: false, reason: 'malformed_header' };
  if (toleranceSeconds > 0 && Math.abs(nowSeconds - parsed.timestampSeconds) > toleranceSeconds) {
    return { valid: false, reason: 'timestamp_out_of_tolerance' };
  }
  const secrets = typeof secret === 'string' ? [secret] : secret;
  for (const candidate of secrets) {
    const expected = Buffer.from(computeSignature(candidate, parsed.timestampSeconds, body), 'hex');
    for (const signature of parsed.signatures) {
      const received = Buffer.from(signature, 'hex');
      if (received.length === expected.length && timingSafeEqual(received, expected)) {
        return { valid: true, timestampSeconds: parsed.timestampSeconds };
      }
    }
  }
  return { valid: false, reason: 'no_matching_signature' };
}
