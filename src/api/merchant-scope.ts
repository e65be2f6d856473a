import type { FastifyInstance } from 'fastify';
import type { AppDependencies } from './dependencies.ts';
import { authenticateMerchant, authenticateAdmin } from './auth.ts';
import type { AuthFailureLimiter } from './auth-failures.ts';
import { PaymentsError } from '../domain/errors.ts';
import { labelRequestLog } from './request-log.ts';
import { accountRoutes } from './routes/accounts.ts';
import { transferRoutes } from './routes/transfers.ts';
import { paymentRoutes } from './routes/payments.ts';
import { eventRoutes } from './routes/events.ts';
import { webhookEndpointRoutes } from './routes/webhook-endpoints.ts';
import { ledgerAdminRoutes } from './routes/ledger-admin.ts';
import { merchantRoutes } from './routes/merchants.ts';
import { adminStatsRoutes } from './routes/admin-stats.ts';
import { importRoutes } from './routes/imports.ts';
import { paymentRecordRoutes } from './routes/payment-records.ts';
import { reconciliationRoutes } from './routes/reconciliation.ts';
import { paymentAdminRoutes } from './routes/payments-admin.ts';
import { payoutRoutes } from './routes/payouts.ts';
import { payoutSettingsRoutes } from './routes/payout-settings.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';

/** The scopes share one count of failed authentications per address. */
export type ScopeDependencies = AppDependencies & { authFailures: AuthFailureLimiter };

/** Authenticates, counting a refused key against the caller's address. */
async function counted<T>(deps: ScopeDependencies, address: string, authenticate: () => Promise<T> | T): Promise<T> {
  deps.authFailures.check(address);
  try {
    return await authenticate();
  } catch (error) {
    if (error instanceof PaymentsError && error.code === 'api_key_invalid') deps.authFailures.failed(address);
    throw error;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    merchantId: string;
    /** The API key (`ak_…`) the request authenticated with. */
    apiKeyId: string;
  }
}

/** Every route registered here sees `request.merchantId` of a valid API key, or never runs. */
export async function merchantScope(app: FastifyInstance, deps: ScopeDependencies): Promise<void> {
  app.decorateRequest('merchantId', '');
  app.decorateRequest('apiKeyId', '');
  app.addHook('onRequest', async (request, reply) => {
    const { merchantId, apiKeyId } = await counted(deps, request.ip, () =>
      authenticateMerchant(deps.prisma, deps.config.adminApiKey, request),
    );
    request.merchantId = merchantId;
    request.apiKeyId = apiKeyId;
    labelRequestLog(request, reply, { merchantId, apiKeyId });
  });
  await app.register(accountRoutes, deps);
  await app.register(transferRoutes, deps);
  await app.register(paymentRoutes, deps);
  await app.register(eventRoutes, deps);
  await app.register(webhookEndpointRoutes, deps);
  await app.register(paymentRecordRoutes, deps);
  await app.register(payoutRoutes, deps);
  await app.register(payoutSettingsRoutes, deps);
  await app.register(apiKeyRoutes, deps);
}

/** Platform operator routes, behind ADMIN_API_KEY. */
export async function adminScope(app: FastifyInstance, deps: ScopeDependencies): Promise<void> {
  app.addHook('onRequest', async (request) =>
    counted(deps, request.ip, () => authenticateAdmin(deps.prisma, deps.config.adminApiKey, request)),
  );
  await app.register(merchantRoutes, deps);
  await app.register(ledgerAdminRoutes, deps);
  await app.register(adminStatsRoutes, deps);
  await app.register(importRoutes, deps);
  await app.register(reconciliationRoutes, deps);
  await app.register(paymentAdminRoutes, deps);
}
