import { afterEach, describe, expect, it } from 'vitest';
import { PaymentsError } from '../../src/domain/errors.ts';
import {
  OutcomeUnknownError,
  ProviderUnavailableError,
  type AuthorizeRequest,
  type PaymentProvider,
  type ProviderCharge,
  type ProviderName,
} from '../../src/providers/provider.ts';
import { createProviderRouter, type ProviderRouter } from '../../src/providers/router.ts';

/** `refused`: a 503 (surely not processed); `timeout`: no answer in time (maybe processed). */
type Mode = 'ok' | 'down' | 'decline' | 'refused' | 'timeout';

/** A provider whose next answers are set by the test; records every call. */
function fakeProvider(name: ProviderName) {
  const calls: { method: string; idempotencyKey?: string }[] = [];
  let mode: Mode = 'ok';
  const answer = async (method: string, idempotencyKey?: string): Promise<ProviderCharge> => {
    calls.push({ method, idempotencyKey });
    if (mode === 'down') throw new PaymentsError('provider_unavailable', `${name} is down`);
    if (mode === 'decline') throw new PaymentsError('card_declined', 'Your card was declined.');
    if (mode === 'refused') throw new ProviderUnavailableError(`${name} answered 503.`, false);
    if (mode === 'timeout') throw new ProviderUnavailableError(`${name} did not answer within 300 ms.`, true);
    return {
      provider: name,
      chargeId: `${name}_charge`,
      status: 'authorized',
      amount: 1000n,
      amountCaptured: 0n,
      amountRefunded: 0n,
      currency: 'USD',
      card: { brand: 'visa', last4: '4242' },
    };
  };
  const provider: PaymentProvider = {
    name,
    authorize: (request) => answer('authorize', request.idempotencyKey),
    capture: (request) => answer('capture', request.idempotencyKey),
    void: (request) => answer('void', request.idempotencyKey),
    refund: async (request) => {
      await answer('refund', request.idempotencyKey);
      return { provider: name, refundId: 'r', chargeId: request.chargeId, amount: request.amount };
    },
    get: () => answer('get'),
    findCharge: async (request) => ({ found: 'charge', charge: await answer('findCharge', request.idempotencyKey) }),
    findRefund: async (request) => {
      await answer('findRefund', request.idempotencyKey);
      return undefined;
    },
  };
  return {
    provider,
    calls,
    set: (next: Mode) => {
      mode = next;
    },
  };
}

const request: AuthorizeRequest = {
  idempotencyKey: 'pay_1:authorize',
  paymentId: 'pay_1',
  amount: 1000n,
  currency: 'USD',
  token: 'tok_visa',
  capture: false,
};

describe('provider router', () => {
  let router: ProviderRouter | undefined;
  afterEach(() => router?.shutdown());

  function setup(volumeThreshold = 3) {
    const stripe = fakeProvider('stripe');
    const paypal = fakeProvider('paypal');
    router = createProviderRouter({
      providers: { stripe: stripe.provider, paypal: paypal.provider },
      routing: { USD: ['stripe', 'paypal'], EUR: ['paypal', 'stripe'] },
      defaultRoute: ['paypal'],
      breaker: { errorThresholdPercentage: 50, resetTimeoutMs: 60_000, volumeThreshold, rollingCountTimeoutMs: 10_000 },
    });
    return { router, stripe, paypal };
  }

  it('takes the first provider of the currency route, with a key of its own', async () => {
    const { router, stripe, paypal } = setup();
    await expect(router.authorize(request)).resolves.toMatchObject({
      charge: { provider: 'stripe' },
      failedAttempts: [],
    });
    await expect(router.authorize({ ...request, currency: 'EUR' })).resolves.toMatchObject({
      charge: { provider: 'paypal' },
    });
    await expect(router.authorize({ ...request, currency: 'JPY' })).resolves.toMatchObject({
      charge: { provider: 'paypal' },
    });
    expect(stripe.calls).toEqual([{ method: 'authorize', idempotencyKey: 'pay_1:authorize:stripe' }]);
    expect(paypal.calls).toEqual([
      { method: 'authorize', idempotencyKey: 'pay_1:authorize:paypal' },
      { method: 'authorize', idempotencyKey: 'pay_1:authorize:paypal' },
    ]);
  });

  it('falls back to the next provider when one is unavailable', async () => {
    const { router, stripe, paypal } = setup();
    stripe.set('down');
    const routed = await router.authorize(request);
    expect(routed.charge.provider).toBe('paypal');
    expect(routed.failedAttempts).toEqual([{ provider: 'stripe', message: 'stripe is down', outcomeUnknown: false }]);
    expect(paypal.calls).toEqual([{ method: 'authorize', idempotencyKey: 'pay_1:authorize:paypal' }]);
  });

  it('stops at a provider that may have acted without answering, when asked to', async () => {
    const { router, stripe, paypal } = setup();
    stripe.set('timeout');
    const error = await router.authorize({ ...request, stopOnUnknownOutcome: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error).toMatchObject({
      code: 'provider_unavailable',
      provider: 'stripe',
      outcomeUnknown: true,
      message: 'stripe did not answer within 300 ms.',
    });
    // No fallback: paypal charging too could take the customer's money twice.
    expect(paypal.calls).toEqual([]);

    // A provider that surely turned the request away (503) is still passed over.
    stripe.set('refused');
    const routed = await router.authorize({ ...request, stopOnUnknownOutcome: true });
    expect(routed.charge.provider).toBe('paypal');
    expect(routed.failedAttempts).toEqual([
      { provider: 'stripe', message: 'stripe answered 503.', outcomeUnknown: false },
    ]);

    // Without the flag, the first version's behaviour: fall back and report the attempt.
    stripe.set('timeout');
    const fallback = await router.authorize(request);
    expect(fallback.failedAttempts).toEqual([
      { provider: 'stripe', message: 'stripe did not answer within 300 ms.', outcomeUnknown: true },
    ]);
  });

  it('does not fall back when the caller named the provider', async () => {
    const { router, stripe, paypal } = setup();
    stripe.set('down');
    await expect(router.authorize({ ...request, provider: 'stripe' })).rejects.toMatchObject({
      code: 'provider_unavailable',
    });
    expect(paypal.calls).toEqual([]);
  });

  it('fails with provider_unavailable when every provider on the route is', async () => {
    const { router, stripe, paypal } = setup();
    stripe.set('down');
    paypal.set('down');
    const error = await router.authorize(request).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PaymentsError);
    expect(error).toMatchObject({ code: 'provider_unavailable' });
    expect((error as Error).message).toMatch(/stripe: stripe is down; paypal: paypal is down/);
  });

  it('never falls back on a decline, and declines never open the circuit', async () => {
    const { router, stripe, paypal } = setup(2);
    stripe.set('decline');
    for (let attempt = 0; attempt < 10; attempt++) {
      await expect(router.authorize(request)).rejects.toMatchObject({ code: 'card_declined' });
    }
    expect(router.breakerState('stripe')).toBe('closed');
    expect(stripe.calls).toHaveLength(10);
    expect(paypal.calls).toEqual([]);
  });

  it('opens the circuit on repeated unavailability, then skips the provider without calling it', async () => {
    const { router, stripe, paypal } = setup(3);
    stripe.set('down');
    for (let attempt = 0; attempt < 3; attempt++) await router.authorize(request);
    expect(router.breakerState('stripe')).toBe('open');
    expect(stripe.calls).toHaveLength(3);

    const routed = await router.authorize(request);
    expect(routed.charge.provider).toBe('paypal');
    expect(routed.failedAttempts).toEqual([
      { provider: 'stripe', message: 'stripe circuit is open; not calling it.', outcomeUnknown: false },
    ]);
    expect(stripe.calls).toHaveLength(3);
    expect(paypal.calls).toHaveLength(4);

    // Existing charges go to their own provider only, through the same breaker.
    await expect(
      router.forCharge('stripe').capture({ idempotencyKey: 'k', chargeId: 'stripe_charge', amount: 1000n }),
    ).rejects.toMatchObject({ code: 'provider_unavailable' });
    expect(stripe.calls).toHaveLength(3);
    await expect(router.forCharge('paypal').get('paypal_charge')).resolves.toMatchObject({ provider: 'paypal' });
  });

  it('passes every operation of an existing charge to its provider, keys unchanged', async () => {
    const { router, stripe } = setup();
    const target = router.forCharge('stripe');
    expect(target.name).toBe('stripe');
    await target.capture({ idempotencyKey: 'pay_1:capture', chargeId: 'stripe_charge', amount: 500n });
    await target.void({ idempotencyKey: 'pay_1:void', chargeId: 'stripe_charge' });
    await expect(
      target.refund({ idempotencyKey: 'pay_1:refund:1', chargeId: 'stripe_charge', amount: 100n }),
    ).resolves.toEqual({ provider: 'stripe', refundId: 'r', chargeId: 'stripe_charge', amount: 100n });
    await target.get('stripe_charge');
    await target.findCharge({ idempotencyKey: 'pay_1:authorize:stripe', paymentId: 'pay_1' });
    await target.findRefund({ idempotencyKey: 'pay_1:refund:1', chargeId: 'stripe_charge', refundId: '1' });
    expect(stripe.calls).toEqual([
      { method: 'capture', idempotencyKey: 'pay_1:capture' },
      { method: 'void', idempotencyKey: 'pay_1:void' },
      { method: 'refund', idempotencyKey: 'pay_1:refund:1' },
      { method: 'get', idempotencyKey: undefined },
      { method: 'findCharge', idempotencyKey: 'pay_1:authorize:stripe' },
      { method: 'findRefund', idempotencyKey: 'pay_1:refund:1' },
    ]);
  });
});
