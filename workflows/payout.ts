import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  condition,
  log,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from './activity-types.ts';
import { compensationActivity, forwardRecoveryActivity, ledgerActivity } from './activity-options.ts';
import { businessFailure } from './failures.ts';
import { showPayoutOpened, showPayoutStatus } from './status-attributes.ts';
import { payoutOpenedUpdate, payoutOutcomeSignal, payoutStatusQuery } from './payout-messages.ts';
import { errorCatalog, nonRetryableErrorCodes } from '../src/domain/errors.ts';
import { utcDayOf } from '../src/domain/reconciliation.ts';
import type { PayoutInput, PayoutOutcome, PayoutView } from '../src/domain/payout-view.ts';
import type { PayoutDefaults, PayoutTiming } from '../src/domain/payout-settings.ts';
import type { ProviderName } from '../src/providers/provider.ts';
import type { ProviderPayout } from '../src/providers/payouts.ts';

const { openPayout } = proxyActivities<Pick<Activities, 'openPayout'>>(ledgerActivity);
const { releasePayoutFunds } = proxyActivities<Pick<Activities, 'releasePayoutFunds'>>(compensationActivity);
// Once the provider has the payout, the books must follow: retried for the forward-recovery window.
const { markPayoutInTransit, markPayoutPaid, reversePayout, failPayout } =
  proxyActivities<Pick<Activities, 'markPayoutInTransit' | 'markPayoutPaid' | 'reversePayout' | 'failPayout'>>(
    forwardRecoveryActivity,
  );
// A status check that fails is simply asked again at the next poll.
const { checkPayoutAtProvider } = proxyActivities<Pick<Activities, 'checkPayoutAtProvider'>>({
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 4 },
});
const { payoutCandidates } = proxyActivities<Pick<Activities, 'payoutCandidates'>>({
  ...ledgerActivity,
  startToCloseTimeout: '1 minute',
});

/** Calls to the payout provider, each with the same key, retried for `windowMs`. */
function providerCalls(windowMs: number): ActivityOptions {
  return {
    startToCloseTimeout: '15 seconds',
    scheduleToCloseTimeout: windowMs,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      nonRetryableErrorTypes: nonRetryableErrorCodes,
    },
  };
}

interface Compensation {
  step: string;
  run: () => Promise<void>;
}

/** The provider refused the request (a business answer): it holds no payout. */
function refusal(error: unknown): { type: string; message: string } | undefined {
  const failure = businessFailure(error);
  return failure && !errorCatalog[failure.type].retryable ? failure : undefined;
}

/**
 * Submits the payout with the key `<payout id>:submit`, retried for submitTimeoutMs. A refusal
 * is final. Out of retries without a refusal, an attempt may have reached the provider with
 * its answer lost: the payout is looked for there (by our id, in its metadata) for
 * lookupTimeoutMs. Found: it goes on; not found: nothing was paid out. Still unknown then, the
 * workflow fails loudly and leaves the hold to an operator (it expires after the forward-
 * recovery window).
 */
async function submit(input: PayoutInput): Promise<ProviderPayout> {
  const { submitPayout } = proxyActivities<Pick<Activities, 'submitPayout'>>(
    providerCalls(input.timing.submitTimeoutMs),
  );
  try {
    return await submitPayout(input);
  } catch (error) {
    if (refusal(error)) throw error;
  }
  const { findPayoutAtProvider } = proxyActivities<Pick<Activities, 'findPayoutAtProvider'>>(
    providerCalls(input.timing.lookupTimeoutMs),
  );
  let found: ProviderPayout | null;
  try {
    found = await findPayoutAtProvider({ provider: input.provider, payoutId: input.payoutId });
  } catch (error) {
    log.error('payout outcome unknown: the provider could not be asked; the hold stays for an operator', {
      payoutId: input.payoutId,
    });
    throw ApplicationFailure.create({
      type: 'PayoutOutcomeUnknown',
      message: `Could not learn whether ${input.payoutId} reached the provider.`,
      nonRetryable: true,
      cause: error instanceof Error ? error : undefined,
    });
  }
  if (found) return found;
  throw ApplicationFailure.nonRetryable('The payout provider could not be reached.', 'provider_unavailable');
}

/**
 * The bank's answer for the accepted payout: its webhook (a signal), or, when none has come
 * for statusPollMs, the provider's answer to a status check; pending means wait again.
 */
async function bankAnswer(
  input: PayoutInput,
  providerPayoutId: string,
  reported: PayoutOutcome[],
): Promise<'paid' | 'failed'> {
  const matching = () => reported.find((outcome) => outcome.providerPayoutId === providerPayoutId);
  for (;;) {
    if (await condition(() => matching() !== undefined, input.timing.statusPollMs)) {
      return (matching() as PayoutOutcome).status;
    }
    try {
      const checked = await checkPayoutAtProvider({ provider: input.provider, providerPayoutId });
      if (checked.status !== 'pending') return checked.status;
    } catch (error) {
      log.warn('payout status check failed; asking again at the next poll', {
        payoutId: input.payoutId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

/** Runs the compensations, the newest step first, then records the failure. */
async function failWith(input: PayoutInput, compensations: Compensation[], failureCode: string): Promise<PayoutView> {
  return CancellationScope.nonCancellable(async () => {
    for (const compensation of compensations) {
      try {
        await compensation.run();
      } catch (error) {
        // Each retried within its bound; still failing, the payout stays as it is for an operator.
        log.error('payout compensation failed after its retries', {
          payoutId: input.payoutId,
          step: compensation.step,
        });
        throw error;
      }
    }
    return failPayout({ payoutId: input.payoutId, failureCode });
  });
}

/**
 * A payout to the merchant's bank as a saga, workflow id = payout id (one run per payout):
 * hold the amount on the merchant's available balance → submit it to the provider → the
 * provider accepted: the hold becomes money in payouts_in_transit → the bank's answer (webhook
 * or status check): paid (the money leaves the books), or failed, compensated in reverse
 * order (the in-transit posting reversed to available, then the hold's release, a no-op once
 * captured). Before the provider accepts, a refusal or an unreachable provider releases the
 * hold. Once it has accepted, money has moved at the provider: the books follow, never undo.
 */
export async function payoutWorkflow(input: PayoutInput): Promise<PayoutView> {
  let view: PayoutView | undefined;
  const reported: PayoutOutcome[] = [];
  setHandler(payoutOpenedUpdate, async ({ waitMs }) => {
    await condition(() => view !== undefined, waitMs);
    return view ?? null;
  });
  setHandler(payoutOutcomeSignal, (outcome) => {
    reported.push(outcome);
  });
  setHandler(payoutStatusQuery, () => view ?? null);
  /** Every view the steps answer goes through here, so PayoutStatus follows each change. */
  const reached = (next: PayoutView): PayoutView => {
    if (next.status !== (view?.status ?? 'pending')) showPayoutStatus(next.status);
    view = next;
    return next;
  };

  showPayoutOpened(input);
  view = reached(await openPayout(input));
  if (view.status !== 'pending') return view;
  const compensations: Compensation[] = [{ step: 'release the hold', run: () => releasePayoutFunds(input.payoutId) }];

  let accepted: ProviderPayout;
  try {
    accepted = await submit(input);
  } catch (error) {
    const failure = businessFailure(error);
    if (!failure) throw error;
    return reached(await failWith(input, compensations, failure.type));
  }

  reached(await markPayoutInTransit({ payoutId: input.payoutId, providerPayoutId: accepted.providerPayoutId }));
  compensations.unshift({ step: 'reverse the payout in transit', run: () => reversePayout(input.payoutId) });
  const answer =
    accepted.status === 'pending' ? await bankAnswer(input, accepted.providerPayoutId, reported) : accepted.status;
  return reached(
    answer === 'paid' ? await markPayoutPaid(input.payoutId) : await failWith(input, compensations, 'payout_failed'),
  );
}

export interface PayoutTriggerInput {
  /** Only these merchants; empty: all (PAYOUT_MERCHANT_IDS). */
  merchantIds: string[];
  defaults: PayoutDefaults;
  provider: ProviderName;
  timing: PayoutTiming;
  /** The day to pay out for; by default the UTC day the schedule fired in. */
  date?: string | undefined;
}

/** When the schedule meant this run to start (a late or caught-up run still covers its own day). */
function scheduledAtMs(): number {
  const scheduled = workflowInfo().typedSearchAttributes.get({ name: 'TemporalScheduledStartTime', type: 'DATETIME' });
  return (scheduled ?? workflowInfo().startTime).getTime();
}

/**
 * What the payout schedule starts: one payout per merchant and currency whose available
 * balance reaches the merchant's minimum and whose schedule runs that day, each under its own
 * id (merchant, currency, day): a day run again starts none twice.
 */
export async function payoutTriggerWorkflow(input: PayoutTriggerInput): Promise<{ date: string; started: string[] }> {
  const date = input.date ?? utcDayOf(scheduledAtMs());
  const candidates = await payoutCandidates({
    date,
    merchantIds: input.merchantIds,
    defaults: input.defaults,
    provider: input.provider,
    timing: input.timing,
  });
  const started: string[] = [];
  for (const candidate of candidates) {
    try {
      await startChild(payoutWorkflow, {
        workflowId: candidate.payoutId,
        args: [candidate],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        // A payout of the day that already ran is never run again.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      started.push(candidate.payoutId);
    } catch (error) {
      // @temporalio/common's WorkflowExecutionAlreadyStartedError, which the workflow package does not re-export.
      if (error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError') continue;
      throw error;
    }
  }
  return { date, started };
}
