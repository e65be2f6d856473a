import { proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from './activity-types.ts';
import {
  compensationLocalActivity,
  forwardRecoveryLocalActivity,
  lookupLocalActivity,
  providerLocalActivity,
  recordLocalActivity,
} from './activity-options.ts';

// The payment workflow's activities, each option set typed with only the activities it may call.

/** Read-model transitions and the wallet hold. */
export const records =
  proxyLocalActivities<Pick<Activities, 'openPayment' | 'recordTransition' | 'holdWallet'>>(recordLocalActivity);

/** Transitions whose ledger posting must land once money has moved: retried for days. */
export const books = proxyLocalActivities<Pick<Activities, 'recordTransition'>>(forwardRecoveryLocalActivity);

export const cardProvider =
  proxyLocalActivities<Pick<Activities, 'authorizeCard' | 'captureCard' | 'refundCard'>>(providerLocalActivity);

export const compensations =
  proxyLocalActivities<Pick<Activities, 'voidCard' | 'releaseOrphanAuthorizations'>>(compensationLocalActivity);

/**
 * Card steps under the lookup policy (workflows/card-outcomes.ts): an answer that never came
 * comes back as `unknown`, not as a failure to retry blind.
 */
export const cardSteps =
  proxyLocalActivities<Pick<Activities, 'tryAuthorizeCard' | 'tryCaptureCard' | 'tryVoidCard' | 'tryRefundCard'>>(
    providerLocalActivity,
  );

/** What the provider did with a step whose answer never came. */
export const cardLookups =
  proxyLocalActivities<Pick<Activities, 'lookUpCardCharge' | 'readCardCharge' | 'lookUpCardRefund'>>(
    lookupLocalActivity,
  );
