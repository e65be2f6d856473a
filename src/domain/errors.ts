// The small, closed set of error codes. Pure: shared by the API, activities and workflows.
// An error's `code` travels through Temporal as the ApplicationFailure `type`, and the API
// maps it to HTTP in one place (src/api/errors.ts) using the table below.

export const errorCatalog = {
  parameter_invalid: { type: 'invalid_request_error', status: 400, retryable: false },
  parameter_missing: { type: 'invalid_request_error', status: 400, retryable: false },
  parameter_unknown: { type: 'invalid_request_error', status: 400, retryable: false },
  invalid_json: { type: 'invalid_request_error', status: 400, retryable: false },
  body_too_large: { type: 'invalid_request_error', status: 413, retryable: false },
  webhook_signature_invalid: { type: 'invalid_request_error', status: 400, retryable: false },
  currency_mismatch: { type: 'invalid_request_error', status: 400, retryable: false },
  api_key_invalid: { type: 'authentication_error', status: 401, retryable: false },
  // A valid key used outside its scope: a merchant key on an admin route, the admin key on a merchant's.
  permission_denied: { type: 'permission_error', status: 403, retryable: false },
  resource_missing: { type: 'invalid_request_error', status: 404, retryable: false },
  idempotency_key_reused: { type: 'idempotency_error', status: 422, retryable: false },
  idempotency_request_in_progress: { type: 'idempotency_error', status: 409, retryable: false },
  insufficient_funds: { type: 'invalid_request_error', status: 402, retryable: false },
  account_unexpected_state: { type: 'invalid_request_error', status: 409, retryable: false },
  hold_unexpected_state: { type: 'invalid_request_error', status: 409, retryable: false },
  amount_too_large: { type: 'invalid_request_error', status: 400, retryable: false },
  // Below the merchant's minimum payout amount (its payout settings).
  amount_too_small: { type: 'invalid_request_error', status: 400, retryable: false },
  // The merchant already has maxEndpointsPerMerchant webhook endpoints: delete one first.
  webhook_endpoint_limit_reached: { type: 'invalid_request_error', status: 400, retryable: false },
  // A test event to a disabled endpoint (it takes no deliveries until enabled).
  webhook_endpoint_unexpected_state: { type: 'invalid_request_error', status: 409, retryable: false },
  // The merchant already has maxActiveApiKeysPerMerchant active API keys: revoke one first.
  api_key_limit_reached: { type: 'invalid_request_error', status: 400, retryable: false },
  // A roll of a key that is not active without an expiry, or revoking the merchant's last such key.
  api_key_unexpected_state: { type: 'invalid_request_error', status: 409, retryable: false },
  transfer_blocked: { type: 'invalid_request_error', status: 402, retryable: false },
  card_declined: { type: 'card_error', status: 402, retryable: false },
  payment_blocked: { type: 'card_error', status: 402, retryable: false },
  payment_unexpected_state: { type: 'invalid_request_error', status: 409, retryable: false },
  // The merchant's bank returned a payout the provider had accepted (shown on the payout).
  payout_failed: { type: 'invalid_request_error', status: 402, retryable: false },
  // A reconciliation item already resolved with another note: the first resolution stands.
  item_already_resolved: { type: 'invalid_request_error', status: 409, retryable: false },
  // The provider timed out, failed with 5xx or its circuit is open: retried, then rerouted.
  provider_unavailable: { type: 'api_error', status: 503, retryable: true },
  rate_limited: { type: 'rate_limit_error', status: 429, retryable: true },
  // A dependency (database, Temporal) is briefly unreachable: activities retry these.
  service_unavailable: { type: 'api_error', status: 503, retryable: true },
  internal_error: { type: 'api_error', status: 500, retryable: true },
} as const;

export type ErrorCode = keyof typeof errorCatalog;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCatalog, value);
}

/** Error types an activity must never retry; listed in every retry policy. */
export const nonRetryableErrorCodes: ErrorCode[] = (Object.keys(errorCatalog) as ErrorCode[]).filter(
  (code) => !errorCatalog[code].retryable,
);

/** A failure the caller can act on; anything else is a bug or an outage. */
export class PaymentsError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly param?: string,
  ) {
    super(message);
    this.name = 'PaymentsError';
  }
}
