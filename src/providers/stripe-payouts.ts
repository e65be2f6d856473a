import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { PaymentsError } from '../domain/errors.ts';
import { isCurrencyCode, toJsonAmount } from '../domain/money.ts';
import { assertSendableAmount, createHttpClient, expectBody, type HttpResponse } from './http.ts';
import type { PayoutProvider, ProviderPayout, ProviderPayoutStatus } from './payouts.ts';
import { errorFromStripe } from './stripe.ts';

// Stripe's Payouts API: POST /v1/payouts with an Idempotency-Key, GET /v1/payouts/:id, and the
// search API by metadata to find a payout whose creation answer was lost.

export interface StripePayoutOptions {
  /** Stripe's origin (or the simulator's /stripe prefix); paths start with /v1. */
  baseUrl: string;
  /** Deadline for each request. */
  timeoutMs: number;
  apiKey?: string;
}

const StripePayoutObject = Type.Object({
  id: Type.String({ minLength: 1 }),
  object: Type.Literal('payout'),
  amount: Type.Integer({ minimum: 1 }),
  currency: Type.String({ minLength: 3, maxLength: 3 }),
  status: Type.String(),
  metadata: Type.Record(Type.String(), Type.String()),
});
type StripePayoutObject = Static<typeof StripePayoutObject>;

const StripeSearchResult = Type.Object({
  object: Type.Literal('search_result'),
  data: Type.Array(StripePayoutObject),
});

const payoutValidator = Compile(StripePayoutObject);
const searchValidator = Compile(StripeSearchResult);

/**
 * Stripe's payout statuses in ours: pending and in_transit are on their way; canceled (before
 * it left) counts as failed, since no money reached the bank.
 */
const statuses: Record<string, ProviderPayoutStatus> = {
  pending: 'pending',
  in_transit: 'pending',
  paid: 'paid',
  failed: 'failed',
  canceled: 'failed',
};

/** A Stripe payout as ours; also for payouts in webhook events. */
export function payoutFromStripe(payout: StripePayoutObject): ProviderPayout {
  const status = statuses[payout.status];
  if (!status) throw new PaymentsError('provider_unavailable', `stripe answered a payout in status ${payout.status}.`);
  return {
    provider: 'stripe',
    providerPayoutId: payout.id,
    payoutId: payout.metadata.payout_id ?? null,
    amount: BigInt(payout.amount),
    currency: payout.currency.toUpperCase(),
    status,
  };
}

export { StripePayoutObject };

export function createStripePayouts(options: StripePayoutOptions): PayoutProvider {
  const http = createHttpClient({
    provider: 'stripe',
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
  });
  const payout = (response: HttpResponse) => payoutFromStripe(expectBody('stripe', payoutValidator, response));

  return {
    name: 'stripe',

    async create(request) {
      assertSendableAmount(request.amount);
      if (!isCurrencyCode(request.currency)) {
        throw new PaymentsError('parameter_invalid', `Unknown ISO 4217 currency: ${request.currency}.`, 'currency');
      }
      const response = await http.send('POST', '/v1/payouts', {
        headers: { 'idempotency-key': request.idempotencyKey },
        body: {
          amount: toJsonAmount(request.amount),
          currency: request.currency.toLowerCase(),
          ...(request.description === null ? {} : { description: request.description }),
          metadata: { payout_id: request.payoutId },
        },
      });
      if (response.status !== 200) throw errorFromStripe(response);
      return payout(response);
    },

    async get(providerPayoutId) {
      const response = await http.send('GET', `/v1/payouts/${encodeURIComponent(providerPayoutId)}`);
      if (response.status !== 200) throw errorFromStripe(response);
      return payout(response);
    },

    async find(payoutId) {
      // Our ids are base64url ([A-Za-z0-9_-]): nothing to escape in the query's quotes.
      if (!/^[A-Za-z0-9_-]+$/.test(payoutId)) throw new Error(`payout id ${payoutId} cannot be searched for`);
      const query = new URLSearchParams({ query: `metadata['payout_id']:'${payoutId}'` });
      const response = await http.send('GET', `/v1/payouts/search?${query.toString()}`);
      if (response.status !== 200) throw errorFromStripe(response);
      const found = expectBody('stripe', searchValidator, response).data;
      return found[0] ? payoutFromStripe(found[0]) : null;
    },
  };
}
