import type { ErrorCode } from './errors.ts';

// A failed payment's `failure_message` is our own sentence for its `failure_code`: provider
// text (which names providers, hosts and timeouts) and internal error strings never reach a
// merchant. The code says what happened; the sentence says what the merchant can do.

const sentences: Partial<Record<ErrorCode, string>> = {
  card_declined: 'The card was declined. Ask the customer for another payment method.',
  insufficient_funds: 'The funds available are not enough for this payment.',
  payment_blocked: 'The payment was blocked by risk rules.',
  provider_unavailable: 'No card processor could take the payment. Nothing was charged; try again later.',
  amount_too_large: 'The amount is larger than the card processor accepts.',
  parameter_invalid: 'The payment details were not accepted by the card processor.',
  resource_missing: 'The account to pay from no longer exists.',
  account_unexpected_state: 'The account to pay from cannot be charged.',
  currency_mismatch: 'The account to pay from holds another currency.',
};

const fallback = 'The payment could not be completed.';

export function failureMessageFor(code: ErrorCode): string {
  return sentences[code] ?? fallback;
}
