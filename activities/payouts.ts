import type { PrismaClient } from '../src/db/prisma.ts';
import type { ColumnCipher } from '../src/crypto/column-cipher.ts';
import type { PayoutInput, PayoutView } from '../src/domain/payout-view.ts';
import type { ProviderGateway, ProviderName } from '../src/providers/provider.ts';
import type { ProviderPayout } from '../src/providers/payouts.ts';
import {
  failPayout,
  markPayoutInTransit,
  markPayoutPaid,
  openPayout,
  releasePayoutHold,
  reversePayout,
} from '../src/payouts/payout-books.ts';
import { payoutCandidates, type CandidateQuery } from '../src/payouts/candidates.ts';

// Activities of the payout workflows. Database steps are one transaction each and idempotent
// (src/payouts/payout-books.ts); the provider is called with `<payout id>:submit` as its
// idempotency key, so a retried submission never pays out twice.

export function createPayoutActivities(prisma: PrismaClient, providers: ProviderGateway, cipher: ColumnCipher) {
  return {
    openPayout: (input: PayoutInput): Promise<PayoutView> => openPayout(prisma, cipher, input),

    releasePayoutFunds: (payoutId: string): Promise<void> => releasePayoutHold(prisma, payoutId),

    async submitPayout(input: PayoutInput): Promise<ProviderPayout> {
      return providers.payouts(input.provider).create({
        idempotencyKey: `${input.payoutId}:submit`,
        payoutId: input.payoutId,
        amount: input.amount,
        currency: input.currency,
        description: input.description,
      });
    },

    /** After a submission out of retries: did any attempt reach the provider? */
    async findPayoutAtProvider(input: { provider: ProviderName; payoutId: string }): Promise<ProviderPayout | null> {
      return providers.payouts(input.provider).find(input.payoutId);
    },

    async checkPayoutAtProvider(input: { provider: ProviderName; providerPayoutId: string }): Promise<ProviderPayout> {
      return providers.payouts(input.provider).get(input.providerPayoutId);
    },

    markPayoutInTransit: (input: { payoutId: string; providerPayoutId: string }): Promise<PayoutView> =>
      markPayoutInTransit(prisma, cipher, input),

    markPayoutPaid: (payoutId: string): Promise<PayoutView> => markPayoutPaid(prisma, cipher, payoutId),

    reversePayout: (payoutId: string): Promise<void> => reversePayout(prisma, cipher, payoutId),

    failPayout: (input: { payoutId: string; failureCode: string }): Promise<PayoutView> =>
      failPayout(prisma, cipher, input),

    payoutCandidates: (query: CandidateQuery): Promise<PayoutInput[]> => payoutCandidates(prisma, query),
  };
}
