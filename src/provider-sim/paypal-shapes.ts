import { randomUUID } from 'node:crypto';
import { toPayPalMoney } from '../providers/paypal-amount.ts';
import { paypalSignature } from '../providers/webhook-signatures.ts';
import type { SimResponse } from './idempotency.ts';
import {
  refundedTotal,
  type SimCharge,
  type SimDispute,
  type SimEvent,
  type SimFailure,
  type SimRefund,
} from './processor.ts';
import type { Settlement } from './settlements.ts';
import { upperToken } from './sim-ids.ts';
import type { WebhookEvent, WebhookSigner } from './webhooks.ts';

// The PayPal personality's shapes: authorizations, captures, refunds and disputes with
// decimal-string amounts, errors as { name, message, debug_id, details: [{ issue, description }] }.
// One capture per authorization, carrying the authorization's id; the authorization lists its
// capture and refunds under `payments`, as an order's purchase unit does.

const iso = (ms: number) => new Date(ms).toISOString();
// PayPal honours an authorization for 29 days.
const authorizationValidityMs = 29 * 24 * 60 * 60 * 1000;

const money = (amount: bigint, currency: string) => toPayPalMoney(amount, currency);

function authorizationStatus(charge: SimCharge): string {
  switch (charge.status) {
    case 'authorized':
      return 'CREATED';
    case 'voided':
      return 'VOIDED';
    case 'declined':
      return 'DENIED';
    case 'captured':
      return charge.amountCaptured < charge.amount ? 'PARTIALLY_CAPTURED' : 'CAPTURED';
  }
}

export function paypalCapture(charge: SimCharge) {
  const refunded = refundedTotal(charge);
  return {
    id: charge.id,
    status: refunded === 0n ? 'COMPLETED' : refunded === charge.amountCaptured ? 'REFUNDED' : 'PARTIALLY_REFUNDED',
    amount: money(charge.amountCaptured, charge.currency),
    final_capture: true,
    custom_id: charge.paymentId,
    create_time: iso(charge.capturedAtMs ?? charge.updatedAtMs),
    update_time: iso(charge.updatedAtMs),
    supplementary_data: { related_ids: { authorization_id: charge.id } },
    links: [{ href: `/v2/payments/captures/${charge.id}/refund`, rel: 'refund', method: 'POST' }],
  };
}

export function paypalRefund(charge: SimCharge, refund: SimRefund) {
  return {
    id: refund.id,
    status: 'COMPLETED' as const,
    amount: money(refund.amount, charge.currency),
    custom_id: charge.paymentId,
    create_time: iso(refund.createdAtMs),
    update_time: iso(refund.createdAtMs),
    supplementary_data: { related_ids: { capture_id: charge.id, authorization_id: charge.id } },
  };
}

export function paypalAuthorization(charge: SimCharge) {
  return {
    id: charge.id,
    status: authorizationStatus(charge),
    // Why a denied authorization was denied, so a lookup tells a decline's kind.
    ...(charge.declineCode ? { status_details: { reason: charge.declineCode.toUpperCase() } } : {}),
    amount: money(charge.amount, charge.currency),
    custom_id: charge.paymentId,
    payment_source: { card: { brand: charge.brand.toUpperCase(), last_digits: charge.last4 } },
    payments: {
      captures: charge.status === 'captured' ? [paypalCapture(charge)] : [],
      refunds: charge.refunds.map((refund) => paypalRefund(charge, refund)),
    },
    expiration_time: iso(charge.createdAtMs + authorizationValidityMs),
    create_time: iso(charge.createdAtMs),
    update_time: iso(charge.updatedAtMs),
    links: [
      { href: `/v2/payments/authorizations/${charge.id}`, rel: 'self', method: 'GET' },
      { href: `/v2/payments/authorizations/${charge.id}/capture`, rel: 'capture', method: 'POST' },
      { href: `/v2/payments/authorizations/${charge.id}/void`, rel: 'void', method: 'POST' },
    ],
  };
}

export function paypalDispute(charge: SimCharge, dispute: SimDispute) {
  return {
    dispute_id: dispute.id,
    create_time: iso(dispute.createdAtMs),
    update_time: iso(dispute.createdAtMs),
    reason: dispute.reason === 'fraudulent' ? 'UNAUTHORISED' : dispute.reason.toUpperCase(),
    status: 'OPEN' as const,
    dispute_amount: money(dispute.amount, charge.currency),
    disputed_transactions: [{ seller_transaction_id: charge.id, custom: charge.paymentId }],
  };
}

export function paypalError(
  status: number,
  name: string,
  message: string,
  details: { issue: string; description: string; field?: string; location?: string }[] = [],
): SimResponse {
  return { status, body: { name, message, debug_id: upperToken(13).toLowerCase(), details, links: [] } };
}

const unprocessable = (issue: string, description: string) =>
  paypalError(
    422,
    'UNPROCESSABLE_ENTITY',
    'The requested action could not be performed, semantically incorrect, or failed business validation.',
    [{ issue, description }],
  );

export const paypalNotFound = (description = 'The specified resource ID does not exist.') =>
  paypalError(404, 'RESOURCE_NOT_FOUND', 'The specified resource does not exist.', [
    { issue: 'INVALID_RESOURCE_ID', description },
  ]);

export const paypalInvalid = (field: string, issue: string, description: string) =>
  paypalError(400, 'INVALID_REQUEST', 'Request is not well-formed, syntactically incorrect, or violates schema.', [
    { field, location: 'body', issue, description },
  ]);

const amountIssues = {
  authorize: 'TRANSACTION_LIMIT_EXCEEDED',
  capture: 'MAX_CAPTURE_AMOUNT_EXCEEDED',
  refund: 'REFUND_AMOUNT_EXCEEDED',
} as const;

/** A processor failure as PayPal answers it. */
export function paypalFailure(failure: SimFailure, operation: keyof typeof amountIssues): SimResponse {
  switch (failure.kind) {
    case 'unknown_token':
      return paypalInvalid('/payment_source/token/id', 'INVALID_PARAMETER_VALUE', 'No such payment token.');
    case 'unknown_currency':
      return unprocessable('CURRENCY_NOT_SUPPORTED', 'Currency code is not supported.');
    case 'declined':
      return failure.code === 'insufficient_funds'
        ? unprocessable('INSUFFICIENT_FUNDS', 'The instrument has insufficient funds.')
        : unprocessable('INSTRUMENT_DECLINED', 'The instrument presented was declined by the processor.');
    case 'transient':
      return paypalError(500, 'INTERNAL_SERVER_ERROR', 'An internal server error occurred.');
    case 'hang':
      return paypalError(504, 'GATEWAY_TIMEOUT', 'The processor did not answer in time.');
    case 'not_found':
      return paypalNotFound();
    case 'amount_too_large':
      return unprocessable(amountIssues[operation], `The amount must not exceed ${failure.limit} minor units.`);
    case 'currency_mismatch':
      return unprocessable('CURRENCY_MISMATCH', 'The currency does not match the authorization.');
    case 'state':
      switch (failure.problem) {
        case 'already_captured':
          return unprocessable('AUTHORIZATION_ALREADY_CAPTURED', 'Authorization has already been captured.');
        case 'voided':
          return unprocessable('AUTHORIZATION_VOIDED', 'Authorization has been voided.');
        case 'declined':
          return unprocessable('AUTHORIZATION_DENIED', 'Authorization was denied.');
        case 'fully_refunded':
          return unprocessable('CAPTURE_FULLY_REFUNDED', 'The capture has already been fully refunded.');
        case 'not_captured':
          // The capture id is the authorization's, and there is no capture yet.
          return paypalNotFound('No capture exists with this id.');
      }
  }
}

function eventsFor(event: SimEvent): { type: string; resourceType: string; resource: unknown; summary: string }[] {
  const { charge } = event;
  const authorization = () => ({
    resourceType: 'authorization',
    resource: paypalAuthorization(charge),
  });
  switch (event.type) {
    case 'charge.succeeded': {
      const created = {
        type: 'PAYMENT.AUTHORIZATION.CREATED',
        ...authorization(),
        summary: 'A payment authorization was created',
      };
      if (charge.status !== 'captured') return [created];
      return [
        created,
        {
          type: 'PAYMENT.CAPTURE.COMPLETED',
          resourceType: 'capture',
          resource: paypalCapture(charge),
          summary: 'Payment completed',
        },
      ];
    }
    case 'charge.failed':
      return [{ type: 'PAYMENT.CAPTURE.DENIED', ...authorization(), summary: 'A payment was denied' }];
    case 'charge.captured':
      return [
        {
          type: 'PAYMENT.CAPTURE.COMPLETED',
          resourceType: 'capture',
          resource: paypalCapture(charge),
          summary: 'Payment completed',
        },
      ];
    case 'charge.voided':
      return [
        { type: 'PAYMENT.AUTHORIZATION.VOIDED', ...authorization(), summary: 'A payment authorization was voided' },
      ];
    case 'charge.refunded':
      return [
        {
          type: 'PAYMENT.CAPTURE.REFUNDED',
          resourceType: 'refund',
          resource: paypalRefund(charge, event.refund),
          summary: 'A payment capture was refunded',
        },
      ];
    case 'dispute.created':
      return [
        {
          type: 'CUSTOMER.DISPUTE.CREATED',
          resourceType: 'dispute',
          resource: paypalDispute(charge, event.dispute),
          summary: 'A dispute was created',
        },
      ];
  }
}

export function paypalWebhookEvents(event: SimEvent, nowMs: number): WebhookEvent[] {
  return eventsFor(event).map(({ type, resourceType, resource, summary }) => {
    const id = `WH-${upperToken(17)}-${upperToken(17)}`;
    const body = JSON.stringify({
      id,
      event_version: '1.0',
      create_time: iso(nowMs),
      resource_type: resourceType,
      event_type: type,
      summary,
      resource,
    });
    return { id, type, body };
  });
}

export const paypalSigner: WebhookSigner = (secret, rawBody, nowMs) => {
  const transmissionId = randomUUID();
  const transmissionTime = iso(nowMs);
  return {
    'paypal-transmission-id': transmissionId,
    'paypal-transmission-time': transmissionTime,
    'paypal-transmission-sig': paypalSignature(secret, { transmissionId, transmissionTime, rawBody }),
    'paypal-auth-algo': 'HMACSHA256',
  };
};

/** PayPal's reporting API pages at most 500 transactions. */
export const maxPayPalPageSize = 500;

export function paypalSettlement(settlement: Settlement, paging: { page: number; pageSize: number }) {
  const start = (paging.page - 1) * paging.pageSize;
  return {
    date: settlement.date,
    totals: settlement.totals.map((total) => ({
      currency_code: total.currency,
      captured: money(total.captured, total.currency),
      refunded: money(total.refunded, total.currency),
      net: money(total.net, total.currency),
      count: total.count,
    })),
    transaction_details: settlement.lines.slice(start, start + paging.pageSize).map((line) => ({
      transaction_info: {
        transaction_id: line.id,
        paypal_reference_id: line.chargeId,
        // PayPal's event codes: T0006 checkout payment, T1107 merchant-initiated refund.
        transaction_event_code: line.kind === 'capture' ? 'T0006' : 'T1107',
        transaction_initiation_date: iso(line.atMs),
        transaction_amount: money(line.kind === 'capture' ? line.amount : -line.amount, line.currency),
        custom_field: line.paymentId ?? null,
      },
    })),
    page: paging.page,
    total_items: settlement.lines.length,
    total_pages: Math.max(1, Math.ceil(settlement.lines.length / paging.pageSize)),
  };
}
