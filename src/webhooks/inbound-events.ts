import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { chargeFromStripe, StripeChargeObject } from '../providers/stripe.ts';
import { StripePayoutObject } from '../providers/stripe-payouts.ts';
import { fromPayPalMoney } from '../providers/paypal-amount.ts';
import type { ProviderName } from '../providers/provider.ts';

// Provider webhooks, normalized: what the payment workflow needs to know of each, whatever the
// provider's shape. Stripe reports refunds as the charge's running total, PayPal one refund at
// a time; both are kept as they come so the workflow can apply them idempotently and in any
// order (a total only ever grows; a refund has an id).

export type ProviderEvent =
  | {
      kind: 'charge_authorized' | 'charge_captured' | 'charge_failed' | 'charge_voided';
      eventId: string;
      chargeId: string;
    }
  | { kind: 'refund_total'; eventId: string; chargeId: string; totalRefunded: bigint }
  | { kind: 'refund'; eventId: string; chargeId: string; refundId: string; amount: bigint }
  | { kind: 'dispute_created'; eventId: string; chargeId: string; disputeId: string; amount: bigint }
  | PayoutEvent
  | { kind: 'ignored'; eventId: string; chargeId: null; type: string };

/**
 * The bank's answer on a payout the provider accepted, for the payout workflow: no charge.
 * `payoutId` is ours as the provider echoes it (null when the payout is not one of ours).
 */
export interface PayoutEvent {
  kind: 'payout_paid' | 'payout_failed';
  eventId: string;
  chargeId: null;
  providerPayoutId: string;
  payoutId: string | null;
}

export function isPayoutEvent(event: ProviderEvent): event is PayoutEvent {
  return event.kind === 'payout_paid' || event.kind === 'payout_failed';
}

/** What every provider event must carry before we record it: its id and type. */
export interface EventEnvelope {
  eventId: string;
  type: string;
}

const StripeEnvelope = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 255 }),
  type: Type.String({ maxLength: 255 }),
});
const PayPalEnvelope = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 255 }),
  event_type: Type.String({ maxLength: 255 }),
});

export function envelopeOf(provider: ProviderName, payload: unknown): EventEnvelope | undefined {
  if (provider === 'stripe') {
    return Value.Check(StripeEnvelope, payload) ? { eventId: payload.id, type: payload.type } : undefined;
  }
  return Value.Check(PayPalEnvelope, payload) ? { eventId: payload.id, type: payload.event_type } : undefined;
}

const StripeDispute = Type.Object({ id: Type.String(), amount: Type.Integer(), charge: Type.String() });
const PayPalMoney = Type.Object({ currency_code: Type.String(), value: Type.String() });
const PayPalRelated = Type.Object({
  supplementary_data: Type.Object({ related_ids: Type.Object({ authorization_id: Type.String() }) }),
});

function stripeEvent(eventId: string, type: string, object: unknown): ProviderEvent {
  if ((type === 'payout.paid' || type === 'payout.failed') && Value.Check(StripePayoutObject, object)) {
    return {
      kind: type === 'payout.paid' ? 'payout_paid' : 'payout_failed',
      eventId,
      chargeId: null,
      providerPayoutId: object.id,
      payoutId: object.metadata.payout_id ?? null,
    };
  }
  if (type === 'charge.dispute.created' && Value.Check(StripeDispute, object)) {
    return {
      kind: 'dispute_created',
      eventId,
      chargeId: object.charge,
      disputeId: object.id,
      amount: BigInt(object.amount),
    };
  }
  if (!Value.Check(StripeChargeObject, object)) return { kind: 'ignored', eventId, chargeId: null, type };
  const charge = chargeFromStripe(object);
  switch (type) {
    case 'charge.succeeded':
      return {
        kind: charge.status === 'captured' ? 'charge_captured' : 'charge_authorized',
        eventId,
        chargeId: charge.chargeId,
      };
    case 'charge.captured':
      return { kind: 'charge_captured', eventId, chargeId: charge.chargeId };
    case 'charge.failed':
      return { kind: 'charge_failed', eventId, chargeId: charge.chargeId };
    case 'charge.refunded':
      // Stripe announces a void as a refund of the uncaptured charge.
      return charge.status === 'voided'
        ? { kind: 'charge_voided', eventId, chargeId: charge.chargeId }
        : { kind: 'refund_total', eventId, chargeId: charge.chargeId, totalRefunded: charge.amountRefunded };
    default:
      return { kind: 'ignored', eventId, chargeId: null, type };
  }
}

function paypalEvent(eventId: string, type: string, resource: unknown): ProviderEvent {
  const record = (resource ?? {}) as Record<string, unknown>;
  const id = typeof record.id === 'string' ? record.id : '';
  switch (type) {
    case 'PAYMENT.AUTHORIZATION.CREATED':
      return { kind: 'charge_authorized', eventId, chargeId: id };
    case 'PAYMENT.AUTHORIZATION.VOIDED':
      return { kind: 'charge_voided', eventId, chargeId: id };
    case 'PAYMENT.CAPTURE.DENIED':
      return { kind: 'charge_failed', eventId, chargeId: id };
    case 'PAYMENT.CAPTURE.COMPLETED':
      return Value.Check(PayPalRelated, resource)
        ? { kind: 'charge_captured', eventId, chargeId: resource.supplementary_data.related_ids.authorization_id }
        : { kind: 'ignored', eventId, chargeId: null, type };
    case 'PAYMENT.CAPTURE.REFUNDED': {
      const Refund = Type.Intersect([PayPalRelated, Type.Object({ id: Type.String(), amount: PayPalMoney })]);
      if (!Value.Check(Refund, resource)) return { kind: 'ignored', eventId, chargeId: null, type };
      return {
        kind: 'refund',
        eventId,
        chargeId: resource.supplementary_data.related_ids.authorization_id,
        refundId: resource.id,
        amount: fromPayPalMoney(resource.amount),
      };
    }
    case 'CUSTOMER.DISPUTE.CREATED': {
      const Dispute = Type.Object({
        dispute_id: Type.String(),
        dispute_amount: PayPalMoney,
        disputed_transactions: Type.Array(Type.Object({ seller_transaction_id: Type.String() }), { minItems: 1 }),
      });
      if (!Value.Check(Dispute, resource)) return { kind: 'ignored', eventId, chargeId: null, type };
      return {
        kind: 'dispute_created',
        eventId,
        chargeId: resource.disputed_transactions[0]!.seller_transaction_id,
        disputeId: resource.dispute_id,
        amount: fromPayPalMoney(resource.dispute_amount),
      };
    }
    default:
      return { kind: 'ignored', eventId, chargeId: null, type };
  }
}

/** The normalized event, or `ignored` for types and shapes we do not act on. */
export function normalizeProviderEvent(provider: ProviderName, payload: unknown): ProviderEvent | undefined {
  const envelope = envelopeOf(provider, payload);
  if (!envelope) return undefined;
  const body = payload as { data?: { object?: unknown }; resource?: unknown };
  return provider === 'stripe'
    ? stripeEvent(envelope.eventId, envelope.type, body.data?.object)
    : paypalEvent(envelope.eventId, envelope.type, body.resource);
}
