import { errorCatalog, type ErrorCode } from '../../domain/errors.ts';
import type { Access } from './operations.ts';

// Which error codes an operation can answer, and what each means (the README's error table
// in the words a client reads in the API reference).

export const errorMeanings: Readonly<Record<ErrorCode, string>> = {
  parameter_invalid: 'A parameter has a wrong type, range, format or text PostgreSQL cannot store; `param` names it.',
  parameter_missing: 'A required parameter (or Idempotency-Key) is absent.',
  parameter_unknown: 'A field the route does not take.',
  invalid_json: 'The body is not JSON.',
  body_too_large: 'The body is over BODY_LIMIT_BYTES.',
  webhook_signature_invalid: 'The webhook signature is missing or does not verify.',
  currency_mismatch: 'Accounts or amounts of different currencies.',
  api_key_invalid: 'No API key, or a key that is not one.',
  permission_denied: 'A valid key on a route of the other scope (merchant or admin).',
  resource_missing: 'No such resource for this caller.',
  idempotency_key_reused: 'The same Idempotency-Key with other parameters.',
  idempotency_request_in_progress: "The same Idempotency-Key's first request is still running.",
  insufficient_funds: "The account's available balance is too small.",
  account_unexpected_state: 'The account cannot take this operation.',
  hold_unexpected_state: 'The hold already ended (released, captured or expired).',
  amount_too_large: 'Past what can be captured or refunded, or a balance past 2^53 − 1.',
  webhook_endpoint_limit_reached: 'The merchant already has the most webhook endpoints allowed.',
  webhook_endpoint_unexpected_state: 'The endpoint is disabled: it takes no deliveries until enabled.',
  api_key_limit_reached: 'The merchant already has the most active API keys allowed.',
  api_key_unexpected_state:
    'The key cannot be rolled (revoked, expired or already rolled), or it is the last active key without an expiry.',
  transfer_blocked: 'A transfer over the risk ceiling.',
  card_declined: 'The provider declined the card.',
  payment_blocked: 'Risk rules blocked the payment.',
  payment_unexpected_state: "The payment's status does not allow the action; the message names the status.",
  amount_too_small: "A payout below the merchant's minimum payout amount.",
  payout_failed: 'The bank returned a payout the provider had accepted (shown on the payout as its failure_code).',
  item_already_resolved: 'The reconciliation item was already resolved with another note.',
  provider_unavailable: 'The card provider did not answer.',
  rate_limited: 'Too many requests for this key, or too many refused keys from this address.',
  service_unavailable:
    'PostgreSQL or Temporal briefly unavailable, or no answer within the wait; retry after Retry-After seconds.',
  internal_error: 'A bug of ours, logged with the Request-Id.',
};

export interface OperationInputs {
  access: Access;
  method: string;
  hasPathParams: boolean;
  hasQuery: boolean;
  hasBody: boolean;
  /** Takes Idempotency-Key; `required` when it must be sent. */
  idempotencyKey: 'none' | 'optional' | 'required';
  paged: boolean;
}

/** Codes any operation with these inputs can answer, whatever it does. */
export function commonErrorCodes(inputs: OperationInputs): ErrorCode[] {
  // Any request's URL or query string can be refused (a bad URL, text PostgreSQL cannot store).
  const codes: ErrorCode[] = ['parameter_invalid', 'internal_error'];
  if (inputs.access === 'open') return codes;
  codes.push('service_unavailable');
  if (inputs.access === 'merchant' || inputs.access === 'admin') {
    codes.push('api_key_invalid', 'permission_denied', 'rate_limited');
  }
  if (inputs.hasPathParams || inputs.hasQuery || inputs.hasBody || inputs.idempotencyKey !== 'none') {
    codes.push('parameter_invalid', 'parameter_unknown', 'parameter_missing');
  }
  // Fastify parses the body of every method but GET and HEAD, whether or not the route reads one.
  if (inputs.method !== 'GET' && inputs.method !== 'HEAD') codes.push('invalid_json', 'body_too_large');
  if (inputs.hasPathParams || inputs.paged) codes.push('resource_missing');
  if (inputs.idempotencyKey !== 'none') codes.push('idempotency_key_reused', 'idempotency_request_in_progress');
  return codes;
}

/** Codes grouped by their HTTP status, statuses in order. */
export function byStatus(codes: Iterable<ErrorCode>): Map<number, ErrorCode[]> {
  const groups = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = errorCatalog[code].status;
    groups.set(status, [...(groups.get(status) ?? []), code]);
  }
  return new Map([...groups].sort(([a], [b]) => a - b));
}
