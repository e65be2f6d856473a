import type { Config } from '../config.ts';
import { createPayPalProvider } from './paypal.ts';
import { createProviderRouter, type ProviderRouter } from './router.ts';
import { createStripeProvider } from './stripe.ts';
import { createPayPalSettlementReports } from './paypal-settlements.ts';
import { createStripeSettlementReports } from './stripe-settlements.ts';
import { createStripePayouts } from './stripe-payouts.ts';
import { settlementReportTimeoutMs } from './settlement-report.ts';

/** The card providers as configured: both personalities of the simulator by default. */
export function createProviderGateway(config: Config): ProviderRouter {
  return createProviderRouter({
    providers: {
      stripe: createStripeProvider({ baseUrl: `${config.providerSimUrl}/stripe`, timeoutMs: config.providerTimeoutMs }),
      paypal: createPayPalProvider({ baseUrl: `${config.providerSimUrl}/paypal`, timeoutMs: config.providerTimeoutMs }),
    },
    settlementReports: {
      stripe: createStripeSettlementReports({
        baseUrl: `${config.providerSimUrl}/stripe`,
        timeoutMs: settlementReportTimeoutMs,
      }),
      paypal: createPayPalSettlementReports({
        baseUrl: `${config.providerSimUrl}/paypal`,
        timeoutMs: settlementReportTimeoutMs,
      }),
    },
    // Only the Stripe personality pays out to banks.
    payouts: {
      stripe: createStripePayouts({ baseUrl: `${config.providerSimUrl}/stripe`, timeoutMs: config.providerTimeoutMs }),
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
