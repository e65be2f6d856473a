import { PaymentsError } from '../domain/errors.ts';
import { eventTypes } from '../events/catalog.ts';
import { randomToken } from '../ids.ts';
import { hostRefusal, type DestinationPolicy } from './destinations.ts';

// Webhook endpoints: what they subscribe to, which URLs they may have, how the API shows them.

export type EndpointStatus = 'enabled' | 'disabled' | 'deleted';

/** Every type, present and future. */
export const allEvents = '*';
export const maxEventTypesPerEndpoint = 50;
export const maxEndpointUrlLength = 2048;
/** Endpoints a merchant may have at once (deleted ones do not count), as at Stripe. */
export const maxEndpointsPerMerchant = 16;
/** Why an endpoint was turned off when it kept failing. */
export const failingDisabledReason = 'delivery_failures';
export const merchantDisabledReason = 'disabled_by_merchant';
/** Why an endpoint was turned off when it answered 410 Gone. */
export const goneDisabledReason = 'endpoint_gone';

/** What an endpoint may subscribe to: the catalog's types, or "*". */
export const subscribableEventTypes = [allEvents, ...eventTypes] as const;
const catalogued: ReadonlySet<string> = new Set(eventTypes);

/** Whether an endpoint subscribed to these types receives an event of `type`. */
export function subscribes(endpointEvents: readonly string[], type: string): boolean {
  return endpointEvents.includes(allEvents) || endpointEvents.includes(type);
}

/**
 * A fresh signing secret: 190 random bits, shown to the merchant once. Its 32 base62 characters
 * are also valid base64 (24 bytes), the form Standard Webhooks libraries expect after `whsec_`.
 */
export function newEndpointSecret(): string {
  return `whsec_${randomToken(32)}`;
}

/**
 * http(s) only, no credentials or fragment in the URL, and a public host unless the policy
 * allows private ones; answers the URL as normalized by WHATWG (which also turns 2130706433,
 * 0x7f000001 and 0177.0.0.1 into 127.0.0.1, so every IPv4 spelling is judged alike).
 */
export function checkEndpointUrl(raw: string, policy: DestinationPolicy): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PaymentsError('parameter_invalid', 'The url is not a valid absolute URL.', 'url');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PaymentsError('parameter_invalid', 'The url must use http or https.', 'url');
  }
  if (url.username !== '' || url.password !== '') {
    throw new PaymentsError('parameter_invalid', 'The url must not contain credentials.', 'url');
  }
  if (url.hash !== '') {
    throw new PaymentsError('parameter_invalid', 'The url must not contain a fragment.', 'url');
  }
  const refusal = policy.allowPrivateDestinations ? null : hostRefusal(url.hostname);
  if (refusal !== null) {
    throw new PaymentsError(
      'parameter_invalid',
      `The url must point to a public internet address; ${url.hostname} is ${refusal}.`,
      'url',
    );
  }
  const normalized = url.toString();
  if (normalized.length > maxEndpointUrlLength) {
    throw new PaymentsError('parameter_invalid', `The url is longer than ${maxEndpointUrlLength} characters.`, 'url');
  }
  return normalized;
}

/** Checks the subscribed types: types of the catalog or "*" alone; duplicates are dropped. */
export function checkEventTypes(types: readonly string[]): string[] {
  if (types.length === 0) {
    throw new PaymentsError('parameter_invalid', 'Subscribe to at least one event type, or "*".', 'events');
  }
  const unique = [...new Set(types)];
  if (unique.includes(allEvents)) {
    if (unique.length > 1) {
      throw new PaymentsError('parameter_invalid', '"*" already means every event type; send it alone.', 'events');
    }
    return unique;
  }
  types.forEach((type, index) => {
    if (!catalogued.has(type)) {
      throw new PaymentsError(
        'parameter_invalid',
        `Unknown event type: ${JSON.stringify(type)}. See the event types in the API docs.`,
        `events.${index}`,
      );
    }
  });
  return unique;
}

export interface EndpointRecord {
  id: string;
  url: string;
  events: string[];
  status: string;
  disabledReason: string | null;
  createdAt: Date;
}

export interface PublicEndpoint {
  id: string;
  object: 'webhook_endpoint';
  url: string;
  events: string[];
  status: string;
  disabled_reason: string | null;
  created_at: string;
  secret?: string;
}

/** The endpoint as the API shows it; the secret only when asked (at creation). */
export function presentEndpoint(endpoint: EndpointRecord, secret?: string): PublicEndpoint {
  return {
    id: endpoint.id,
    object: 'webhook_endpoint',
    url: endpoint.url,
    events: endpoint.events,
    status: endpoint.status,
    disabled_reason: endpoint.disabledReason,
    created_at: endpoint.createdAt.toISOString(),
    ...(secret === undefined ? {} : { secret }),
  };
}
