// The simulator's test tokens, after Stripe's: each stands for a card and decides how the
// processor answers a charge on it.

export type DeclineCode = 'card_declined' | 'insufficient_funds';

export type TokenBehaviour =
  | { kind: 'approve' }
  | { kind: 'decline'; code: DeclineCode }
  /** Answers 500 to the first `failures` attempts with one idempotency key, then approves. */
  | { kind: 'transient'; failures: number }
  /** Holds the request open past any client timeout, then answers 504 having recorded nothing. */
  | { kind: 'hang' };

export interface TestCard {
  brand: string;
  last4: string;
  behaviour: TokenBehaviour;
}

const approve = { kind: 'approve' } as const;

export const testCards: Readonly<Record<string, TestCard>> = {
  tok_visa: { brand: 'visa', last4: '4242', behaviour: approve },
  tok_mastercard: { brand: 'mastercard', last4: '4444', behaviour: approve },
  tok_amex: { brand: 'amex', last4: '8431', behaviour: approve },
  tok_discover: { brand: 'discover', last4: '1117', behaviour: approve },
  tok_chargeDeclined: { brand: 'visa', last4: '0002', behaviour: { kind: 'decline', code: 'card_declined' } },
  tok_insufficientFunds: { brand: 'visa', last4: '9995', behaviour: { kind: 'decline', code: 'insufficient_funds' } },
  tok_processingError: { brand: 'visa', last4: '0119', behaviour: { kind: 'transient', failures: 2 } },
  tok_timeout: { brand: 'visa', last4: '0077', behaviour: { kind: 'hang' } },
  // Approved here: the orchestrator's own risk rules are what must stop it.
  tok_riskHigh: { brand: 'visa', last4: '4954', behaviour: approve },
};

export function testCard(token: string): TestCard | undefined {
  return Object.hasOwn(testCards, token) ? testCards[token] : undefined;
}
