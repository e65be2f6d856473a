import type { Config } from '../config.ts';
import { createPayPalProvider } from './paypal.ts';
import { createProviderRouter, type ProviderRouter } from './router.ts';
import { createStripeProvider } from './stripe.ts';

/** The card providers as configured: both personalities of the simulator by default. */
export function createProviderGateway(config: Config): ProviderRouter {
  return createProviderRouter({
    providers: {
      stripe: createStripeProvider({ baseUrl: `${config.providerSimUrl}/stripe`, timeoutMs: config.providerTimeoutMs }),
      paypal: createPayPalProvider({ baseUrl: `${config.providerSimUrl}/paypal`, timeoutMs: config.providerTimeoutMs }),
    },
    routing: config.providerRouting,
    defaultRoute: config.providerDefaultRoute,
    breaker: {
      errorThresholdPercentage: config.breakerErrorThresholdPercentage,
      resetTimeoutMs: config.breakerResetTimeoutMs,
      volumeThreshold: config.breakerVolumeThreshold,
      rollingCountTimeoutMs: 10_000,
    },
  });
}
