import { toJsonAmount } from '../domain/money.ts';
import { stripeSignatureHeader } from '../providers/webhook-signatures.ts';
import type { SimResponse } from './idempotency.ts';
import {
  refundedTotal,
  type SimCharge,
  type SimDispute,
  type SimEvent,
  type SimFailure,
  type SimRefund,
} from './processor.ts';
import type { SimPayout, SimPayoutEvent } from './payouts.ts';
import type { Settlement, SettlementLine } from './settlements.ts';
import { stripeId } from './sim-ids.ts';
import type { WebhookEvent, WebhookSigner } from './webhooks.ts';

// The Stripe personality's shapes: charge, refund, dispute and event objects, and errors as
// { error: { type, code, decline_code?, message, param? } }.

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * Like Stripe, the part of an authorization that will never be captured (the rest of a partial
 * capture, or all of a voided charge) shows in amount_refunded, and `refunded` is true once
 * amount_refunded reaches amount.
 */
export function stripeCharge(charge: SimCharge) {
  const released =
    charge.status === 'voided'
      ? charge.amount
      : charge.status === 'captured'
        ? charge.amount - charge.amountCaptured
        : 0n;
  const amountRefunded = refundedTotal(charge) + released;
  const declined = charge.status === 'declined';
  return {
    id: charge.id,
    object: 'charge' as const,
    amount: toJsonAmount(charge.amount),
    amount_captured: toJsonAmount(charge.amountCaptured),
    amount_refunded: toJsonAmount(amountRefunded),
    captured: charge.status === 'captured',
    refunded: !declined && amountRefunded === charge.amount,
    disputed: charge.disputes.length > 0,
    status: declined ? ('failed' as const) : ('succeeded' as const),
    failure_code: declined ? 'card_declined' : null,
    outcome: { type: declined ? 'issuer_declined' : 'authorized', reason: charge.declineCode ?? null },
    currency: charge.currency.toLowerCase(),
    metadata: charge.metadata,
    payment_method_details: { type: 'card' as const, card: { brand: charge.brand, last4: charge.last4 } },
    created: seconds(charge.createdAtMs),
    livemode: false,
  };
}

export function stripeRefund(charge: SimCharge, refund: SimRefund) {
  return {
    id: refund.id,
    object: 'refund' as const,
    amount: toJsonAmount(refund.amount),
    charge: charge.id,
    currency: charge.currency.toLowerCase(),
    status: 'succeeded' as const,
    // The refund's own keys over the charge's, so a refund without any still names its payment.
    metadata: { ...charge.metadata, ...refund.metadata },
    created: seconds(refund.createdAtMs),
  };
}

export function stripeDispute(charge: SimCharge, dispute: SimDispute) {
  return {
    id: dispute.id,
    object: 'dispute' as const,
    amount: toJsonAmount(dispute.amount),
    charge: charge.id,
    currency: charge.currency.toLowerCase(),
    reason: dispute.reason,
    status: 'needs_response' as const,
    metadata: charge.metadata,
    created: seconds(dispute.createdAtMs),
  };
}

export function stripePayout(payout: SimPayout) {
  return {
    id: payout.id,
    object: 'payout' as const,
    amount: toJsonAmount(payout.amount),
    currency: payout.currency.toLowerCase(),
    status: payout.status,
    arrival_date: seconds(payout.arrivalAtMs),
    automatic: false,
    method: 'standard' as const,
    description: payout.description ?? null,
    failure_code: payout.failureCode ?? null,
    failure_message: payout.failureCode === undefined ? null : 'The bank account has been closed.',
    metadata: payout.metadata,
    created: seconds(payout.createdAtMs),
    livemode: false,
  };
}

export function stripeError(
  status: number,
  type: 'card_error' | 'invalid_request_error' | 'api_error' | 'idempotency_error',
  code: string,
  message: string,
  extra: { param?: string; decline_code?: string; charge?: string } = {},
): SimResponse {
  return { status, body: { error: { type, code, message, ...extra } } };
}

const stateErrors = {
  already_captured: ['charge_already_captured', 'This charge has already been captured.'],
  voided: ['charge_already_refunded', 'This charge has been voided.'],
  declined: ['charge_failed', 'This charge failed and cannot be changed.'],
  not_captured: ['charge_not_captured', 'This charge has not been captured.'],
  fully_refunded: ['charge_already_refunded', 'This charge has already been fully refunded.'],
} as const;

/** A processor failure as Stripe answers it; `param` names the request field holding the charge id. */
export function stripeFailure(failure: SimFailure, idParam: 'id' | 'charge' = 'id'): SimResponse {
  switch (failure.kind) {
    case 'unknown_token':
      return stripeError(400, 'invalid_request_error', 'resource_missing', 'No such token.', { param: 'source' });
    case 'unknown_currency':
      return stripeError(400, 'invalid_request_error', 'parameter_invalid', 'Invalid currency.', { param: 'currency' });
    case 'declined':
      return stripeError(
        402,
        'card_error',
        'card_declined',
        failure.code === 'insufficient_funds' ? 'Your card has insufficient funds.' : 'Your card was declined.',
        {
          decline_code: failure.code === 'insufficient_funds' ? 'insufficient_funds' : 'generic_decline',
          charge: failure.charge.id,
        },
      );
    case 'transient':
      return stripeError(
        500,
        'api_error',
        'processing_error',
        'An error occurred while processing the card. Try again.',
      );
    case 'hang':
      return stripeError(504, 'api_error', 'timeout', 'The card network did not answer in time.');
    case 'not_found':
      return stripeError(404, 'invalid_request_error', 'resource_missing', 'No such charge.', { param: idParam });
    case 'amount_too_large':
      return stripeError(
        400,
        'invalid_request_error',
        'amount_too_large',
        `Amount must be no more than ${failure.limit}.`,
        { param: 'amount' },
      );
    case 'currency_mismatch':
      return stripeError(400, 'invalid_request_error', 'parameter_invalid', 'Currency does not match the charge.', {
        param: 'currency',
      });
    case 'state': {
      const [code, message] = stateErrors[failure.problem];
      return stripeError(400, 'invalid_request_error', code, message);
    }
  }
}

const eventTypes: Record<SimEvent['type'], string> = {
  'charge.succeeded': 'charge.succeeded',
  'charge.failed': 'charge.failed',
  'charge.captured': 'charge.captured',
  // Stripe announces a cancelled authorization as a refund of the whole (uncaptured) charge.
  'charge.voided': 'charge.refunded',
  'charge.refunded': 'charge.refunded',
  'dispute.created': 'charge.dispute.created',
};

export function stripeWebhookEvents(event: SimEvent, nowMs: number): WebhookEvent[] {
  const id = stripeId('evt');
  const type = eventTypes[event.type];
  const object =
    event.type === 'dispute.created' ? stripeDispute(event.charge, event.dispute) : stripeCharge(event.charge);
  const body = JSON.stringify({
    id,
    object: 'event',
    type,
    created: seconds(nowMs),
    livemode: false,
    data: { object },
  });
  return [{ id, type, body }];
}

/** payout.paid / payout.failed, with the payout as it is when the bank answered. */
export function stripePayoutWebhookEvent(event: SimPayoutEvent, nowMs: number): WebhookEvent {
  const id = stripeId('evt');
  const body = JSON.stringify({
    id,
    object: 'event',
    type: event.type,
    created: seconds(nowMs),
    livemode: false,
    data: { object: stripePayout(event.payout) },
  });
  return { id, type: event.type, body };
}

export const stripeSigner: WebhookSigner = (secret, rawBody, nowMs) => ({
  'stripe-signature': stripeSignatureHeader(secret, rawBody, seconds(nowMs)),
});

export function stripeSettlement(settlement: Settlement, page: { lines: SettlementLine[]; hasMore: boolean }) {
  return {
    object: 'settlement_report' as const,
    date: settlement.date,
    totals: settlement.totals.map((total) => ({
      currency: total.currency.toLowerCase(),
      captured: toJsonAmount(total.captured),
      refunded: toJsonAmount(total.refunded),
      net: toJsonAmount(total.net),
      count: total.count,
    })),
    data: page.lines.map((line) => ({
      id: line.id,
      object: 'balance_transaction' as const,
      type: line.kind === 'capture' ? ('charge' as const) : ('refund' as const),
      source: line.id,
      charge: line.chargeId,
      amount: toJsonAmount(line.kind === 'capture' ? line.amount : -line.amount),
      currency: line.currency.toLowerCase(),
      created: seconds(line.atMs),
      metadata: line.paymentId === undefined ? {} : { payment_id: line.paymentId },
    })),
    has_more: page.hasMore,
  };
}
