import { ApplicationFailure } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { PrismaClient } from '../src/db/prisma.ts';
import { PaymentsError, errorCatalog } from '../src/domain/errors.ts';
import { createDepositActivities } from './deposits.ts';
import { createTransferActivities } from './transfers.ts';
import { createPaymentRecordActivities } from './payment-records.ts';
import { createCardProviderActivities } from './card-provider.ts';
import { createCardOutcomeActivities } from './card-outcomes.ts';
import { createProviderEventActivities } from './provider-events.ts';
import { createDeliveryActivities } from './deliveries.ts';
import { createMaintenanceActivities } from './maintenance.ts';
import { createRecordActivities } from './records.ts';
import { createReconciliationActivities } from './reconciliation.ts';
import { createPayoutActivities } from './payouts.ts';
import { createPaymentV1Activities } from './legacy/payment-v1.ts';
import { createWebhookV1Activities } from './legacy/webhook-v1.ts';
import type { ProviderGateway } from '../src/providers/provider.ts';
import type { Keyring } from '../src/crypto/keyring.ts';
import { cipherFor } from '../src/crypto/column-cipher.ts';
import { createProviderAttemptLog } from '../src/providers/provider-attempts.ts';

export interface ActivityDependencies {
  prisma: PrismaClient;
  providers: ProviderGateway;
  /** For activities that signal workflows (provider events to their payment). */
  temporal: Client;
  /** Webhooks may go to loopback and private addresses (dev mode, tests); default: public only. */
  allowPrivateWebhookDestinations?: boolean;
  /** Encrypts and decrypts the sensitive columns (src/crypto/column-cipher.ts). */
  keyring: Keyring;
}

/**
 * Activities with their dependencies injected (the worker passes real ones). Typed domain
 * errors leave an activity as ApplicationFailure whose `type` is the error code, non-retryable
 * when the catalog says so; anything else is retried by the activity's retry policy.
 */
export function createActivities(deps: ActivityDependencies) {
  const cipher = cipherFor(deps.keyring);
  const providerAttempts = createProviderAttemptLog(deps.prisma);
  return typedFailures({
    ...createDepositActivities(deps.prisma, cipher),
    ...createTransferActivities(deps.prisma, cipher),
    ...createPaymentRecordActivities(deps.prisma, cipher),
    ...createCardProviderActivities(deps.providers, providerAttempts),
    ...createCardOutcomeActivities(deps.providers, providerAttempts),
    ...createProviderEventActivities(deps.prisma, deps.temporal),
    ...createDeliveryActivities(
      deps.prisma,
      { allowPrivateDestinations: deps.allowPrivateWebhookDestinations ?? false },
      cipher,
    ),
    ...createMaintenanceActivities(deps.prisma),
    ...createRecordActivities(deps.prisma, cipher),
    ...createReconciliationActivities(deps.prisma, deps.providers, cipher),
    ...createPayoutActivities(deps.prisma, deps.providers, cipher),
    ...createPaymentV1Activities(deps.prisma, cipher),
    ...createWebhookV1Activities(deps.prisma),
  });
}

function typedFailures<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await activity(...args);
      } catch (error) {
        if (error instanceof PaymentsError) {
          const retryable = errorCatalog[error.code].retryable;
          throw ApplicationFailure.create({
            type: error.code,
            message: error.message,
            nonRetryable: !retryable,
            details: error.param === undefined ? [] : [{ param: error.param }],
            // A decline, insufficient funds, a refused state: an outcome, not a fault. BENIGN
            // makes the SDK log it at DEBUG without a stack (the info line is
            // src/observability/activity-logging.ts's) and leave it out of its failure metrics.
            // Retryable ones (provider_unavailable…) stay failures: they are worth a stack.
            ...(retryable ? {} : { category: ApplicationFailureCategory.BENIGN }),
          });
        }
        throw error;
      }
    };
  }
  return wrapped as T;
}
