// The card tokens the providers publish for testing (after Stripe's `tok_visa`…). Each names a
// kind of card and an outcome, not one person's card: every merchant's demo and load test sends
// the same few tokens, so counting them as one card would block the second test run of the day.

export const testTokens: ReadonlySet<string> = new Set([
  'tok_visa',
  'tok_mastercard',
  'tok_amex',
  'tok_discover',
  'tok_chargeDeclined',
  'tok_insufficientFunds',
  'tok_processingError',
  'tok_timeout',
  'tok_riskHigh',
]);

export function isTestToken(token: string): boolean {
  return testTokens.has(token);
}
