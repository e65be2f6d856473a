import { createHmac } from 'node:crypto';

// The Standard Webhooks signature (https://www.standardwebhooks.com), sent beside our own
// `Signature` header so that receivers can verify our deliveries with any of the libraries that
// implement the specification:
//
//   webhook-id:        the message id, the same on every attempt (the event id)
//   webhook-timestamp: unix seconds
//   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>, one per
//                      active secret, separated by spaces
//
// The key is what the secret's part after `whsec_` encodes in base64. Pure: the caller passes the time.

export const standardWebhookHeaders = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

const secretPrefix = 'whsec_';

/** The HMAC key of a `whsec_` secret: the bytes its base64 part encodes. */
export function standardSigningKey(secret: string): Buffer {
  if (!secret.startsWith(secretPrefix)) throw new Error('a Standard Webhooks secret starts with whsec_');
  const key = Buffer.from(secret.slice(secretPrefix.length), 'base64');
  // Shorter than a SHA-256 block's worth of entropy would be a programmer error, never a merchant's.
  if (key.length < 16) throw new Error('a Standard Webhooks secret encodes at least 16 bytes');
  return key;
}

/** The three headers of one request, signed with every active secret. */
export function standardWebhookHeaderValues(input: {
  messageId: string;
  body: string | Buffer;
  secrets: readonly string[];
  timestampSeconds: number;
}): Record<(typeof standardWebhookHeaders)[keyof typeof standardWebhookHeaders], string> {
  if (!Number.isSafeInteger(input.timestampSeconds) || input.timestampSeconds < 0) {
    throw new RangeError('timestampSeconds must be a non-negative integer');
  }
  if (input.secrets.length === 0) throw new Error('at least one secret signs a webhook');
  const signed = `${input.messageId}.${input.timestampSeconds}.`;
  const signatures = input.secrets.map(
    (secret) =>
      `v1,${createHmac('sha256', standardSigningKey(secret)).update(signed).update(input.body).digest('base64')}`,
  );
  return {
    [standardWebhookHeaders.id]: input.messageId,
    [standardWebhookHeaders.timestamp]: String(input.timestampSeconds),
    [standardWebhookHeaders.signature]: signatures.join(' '),
  };
}
