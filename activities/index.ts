import { ApplicationFailure } from '@temporalio/activity';
import type { PrismaClient } from '../src/db/prisma.ts';
import { PaymentsError, errorCatalog } from '../src/domain/errors.ts';
import { createDepositActivities } from './deposits.ts';
import { createTransferActivities } from './transfers.ts';
import { createPaymentActivities } from './payments.ts';
import { createDeliveryActivities } from './deliveries.ts';
import { createWebhookActivities } from './webhooks.ts';
import { createMaintenanceActivities } from './maintenance.ts';
import type { ProviderGateway } from '../src/providers/provider.ts';

export interface ActivityDependencies {
  prisma: PrismaClient;
  providers: ProviderGateway;
}

/**
 * Activities with their dependencies injected (the worker passes real ones). Typed domain
 * errors leave an activity as ApplicationFailure whose `type` is the error code, non-retryable
 * when the catalog says so; anything else is retried by the activity's retry policy.
 */
export function createActivities(deps: ActivityDependencies) {
  return typedFailures({
    ...createDepositActivities(deps.prisma),
    ...createTransferActivities(deps.prisma),
    ...createPaymentActivities(deps.prisma, deps.providers),
    ...createDeliveryActivities(deps.prisma),
    ...createWebhookActivities(deps.prisma),
    ...createMaintenanceActivities(deps.prisma),
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
          throw ApplicationFailure.create({
            type: error.code,
            message: error.message,
            nonRetryable: !errorCatalog[error.code].retryable,
            details: error.param === undefined ? [] : [{ param: error.param }],
          });
        }
        throw error;
      }
    };
  }
  return wrapped as T;
}
