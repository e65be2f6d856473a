import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDependencies } from '../dependencies.ts';
import { toJsonAmount } from '../../domain/money.ts';
import type { MerchantPayoutSettings } from '../../domain/payout-settings.ts';
import { merchantPayoutSettings, updatePayoutSettings } from '../../payouts/merchant-settings.ts';
import { withErrors } from '../schemas/common.ts';
import { PayoutSettings, UpdatePayoutSettingsBody } from '../schemas/payouts.ts';
import { payoutDefaults } from './payouts.ts';

// A merchant's payout settings: when the payout schedule pays it out, and its minimum payout.

function presentSettings(settings: MerchantPayoutSettings): PayoutSettings {
  return {
    object: 'payout_settings',
    schedule: settings.schedule,
    minimum_amount: toJsonAmount(settings.minimumMinor),
  };
}

export async function payoutSettingsRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const defaults = payoutDefaults(deps.config);

  app.get(
    '/v1/payout_settings',
    { schema: { tags: ['payouts'], response: withErrors({ 200: PayoutSettings }) } },
    async (request) => presentSettings(await merchantPayoutSettings(deps.prisma, request.merchantId, defaults)),
  );

  app.post(
    '/v1/payout_settings',
    {
      schema: { tags: ['payouts'], body: UpdatePayoutSettingsBody, response: withErrors({ 200: PayoutSettings }) },
    },
    async (request) => {
      const { schedule, minimum_amount: minimum } = request.body;
      const settings = await updatePayoutSettings(
        deps.prisma,
        request.merchantId,
        { schedule, minimumMinor: minimum === undefined || minimum === null ? minimum : BigInt(minimum) },
        defaults,
      );
      return presentSettings(settings);
    },
  );
}
