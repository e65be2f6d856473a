// The catalog of event types merchants can receive (outbound webhooks, GET /v1/events): an
// explicit allow-list, so a transition the workflows record for operators (an orphan release
// that failed, say) is never announced by accident.

export const paymentEventTypes = [
  'payment.created',
  'payment.requires_review',
  'payment.review_approved',
  'payment.requires_capture',
  'payment.succeeded',
  'payment.failed',
  'payment.canceled',
  'payment.settled',
  'payment.dispute_created',
  'payment.attention_required',
  'refund.succeeded',
] as const;

export const eventTypes = [
  ...paymentEventTypes,
  // The merchant's own changes (POST /v1/payments/:id, /v1/accounts/:id), not workflow transitions.
  'payment.updated',
  'account.updated',
  'deposit.succeeded',
  'transfer.succeeded',
  'transfer.failed',
  'payout.created',
  'payout.paid',
  'payout.failed',
  'payment_record.created',
  'webhook_endpoint.disabled',
  // Sent to one endpoint on request (POST /v1/webhook_endpoints/:id/test), never by the relay.
  'webhook_endpoint.test',
  'api_key.created',
  'api_key.rolled',
  'api_key.revoked',
] as const;

export type EventType = (typeof eventTypes)[number];

/**
 * The platform's own events, for operators: written without a merchant, published on the event
 * stream, never sent to a merchant's webhook endpoints nor listed by GET /v1/events (so no
 * endpoint can subscribe to them).
 */
export const platformEventTypes = ['reconciliation.mismatch_found', 'reconciliation.run_completed'] as const;

export type PlatformEventType = (typeof platformEventTypes)[number];

const announcedPaymentTypes: ReadonlySet<string> = new Set(paymentEventTypes);

/** Whether a payment transition is announced to its merchant. */
export function isAnnouncedPaymentTransition(type: string): boolean {
  return announcedPaymentTypes.has(type);
}

/**
 * Whether a list filter can match anything: a type of the catalog, or a family of them written
 * `<prefix>.*` (`payment.*`). Anything else is a typo that would answer an empty list forever.
 */
export function isEventTypeFilter(filter: string): boolean {
  if (!filter.endsWith('.*')) return (eventTypes as readonly string[]).includes(filter);
  const family = filter.slice(0, -1);
  return eventTypes.some((type) => type.startsWith(family));
}
