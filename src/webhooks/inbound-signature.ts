import { verifyPayPalSignature, verifyStripeSignature } from '../providers/webhook-signatures.ts';
import type { ProviderName } from '../providers/provider.ts';

// Checks a provider's signature on the raw body before anything else is done with it. Several
// secrets may be active while one rotates: any of them may have signed.

export interface InboundSignatureCheck {
  provider: ProviderName;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  secrets: string[];
  toleranceSeconds: number;
  nowMs: number;
}

function header(headers: InboundSignatureCheck['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function verifyInboundSignature(check: InboundSignatureCheck): boolean {
  const { headers, rawBody, toleranceSeconds, nowMs } = check;
  if (check.provider === 'stripe') {
    return check.secrets.some((secret) =>
      verifyStripeSignature({
        header: header(headers, 'stripe-signature'),
        rawBody,
        secret,
        nowSeconds: Math.floor(nowMs / 1000),
        toleranceSeconds,
      }),
    );
  }
  const transmissionId = header(headers, 'paypal-transmission-id');
  const transmissionTime = header(headers, 'paypal-transmission-time');
  if (!transmissionId || !transmissionTime) return false;
  return check.secrets.some((secret) =>
    verifyPayPalSignature({
      signature: header(headers, 'paypal-transmission-sig'),
      secret,
      nowMs,
      toleranceMs: toleranceSeconds * 1000,
      transmissionId,
      transmissionTime,
      rawBody,
    }),
  );
}
