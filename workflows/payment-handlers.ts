import { condition, setHandler } from '@temporalio/workflow';
import { checkCancel, checkCapture, checkRefund, checkReview, isFinal, isStable } from '../src/domain/payment-state.ts';
import { valueOf } from './failures.ts';
import {
  approveUpdate,
  awaitStableUpdate,
  cancelUpdate,
  captureUpdate,
  lookUpAgainSignal,
  providerEventSignal,
  refundUpdate,
  rejectUpdate,
  statusQuery,
} from './messages.ts';
import type { PaymentRun } from './payment-run.ts';
import { maxRememberedProviderEvents } from './payment-run.ts';
import { applyProviderMoney, isMoneyEvent } from './provider-money.ts';

// What the outside world can ask of a payment. Updates have validators: an invalid
// transition is refused before it touches history (the API answers 409, or 400 for a bad
// amount). Money-moving handlers queue on the payment's lock behind the main flow.

export function registerPaymentHandlers(run: PaymentRun): void {
  const { view } = run;
  const settledAndRecorded = () => view.status !== 'requires_review' && isStable(view.status) && run.recorded();
  // Every update handler counts itself in: the run ends only in a task that ran none.
  const counted =
    <A extends unknown[], R>(handler: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      run.updatesStarted += 1;
      return handler(...args);
    };

  setHandler(statusQuery, () => view);

  // An operator's "look again now" for a step left in doubt (POST /v1/admin/payments/:id/lookup).
  setHandler(lookUpAgainSignal, () => {
    run.lookupRequestCount += 1;
  });

  setHandler(
    awaitStableUpdate,
    counted(async ({ waitMs }) => {
      await condition(() => isStable(view.status) && run.recorded(), waitMs);
      return view;
    }),
  );

  // Provider webhooks arrive in any order and more than once: each is applied once (by event
  // id), and money events wait until our own capture is booked, so a refund reported before
  // the capture finished is buffered, never applied twice or to an unbooked payment.
  setHandler(providerEventSignal, async (event) => {
    if (run.seenProviderEvents.has(event.eventId) || !isMoneyEvent(event)) return;
    remember(run.seenProviderEvents, event.eventId);
    await condition(() => (view.status === 'succeeded' && run.recorded()) || isFinal(view.status));
    if (view.status === 'succeeded') await run.lock.run(() => applyProviderMoney(run, event));
  });

  setHandler(
    captureUpdate,
    counted(({ amount }) =>
      run.lock.run(async () => {
        await run.capture(valueOf(checkCapture(run.amounts(), amount)));
        return view;
      }),
    ),
    { validator: ({ amount }) => void valueOf(checkCapture(run.amounts(), amount)) },
  );

  setHandler(
    cancelUpdate,
    counted(async () => {
      if (view.status === 'requires_review') {
        run.reviewDecision = 'cancel';
        await condition(settledAndRecorded);
        return view;
      }
      return run.lock.run(async () => {
        valueOf(checkCancel(run.amounts()));
        await run.releaseAuthorization('requested');
        return view;
      });
    }),
    { validator: () => void valueOf(checkCancel(run.amounts())) },
  );

  for (const [update, decision] of [
    [approveUpdate, 'approve'],
    [rejectUpdate, 'reject'],
  ] as const) {
    setHandler(
      update,
      counted(async () => {
        valueOf(checkReview(run.amounts()));
        run.reviewDecision = decision;
        await condition(settledAndRecorded);
        return view;
      }),
      { validator: () => void valueOf(checkReview(run.amounts())) },
    );
  }

  setHandler(
    refundUpdate,
    counted(({ refundId, amount, reason }) =>
      run.lock.run(async () => {
        const existing = view.refunds.find((refund) => refund.id === refundId);
        if (existing) return existing;
        const checked = valueOf(checkRefund(run.amounts(), amount, run.input.settings.maxRefunds));
        return run.refund(refundId, checked, reason ?? null);
      }),
    ),
    {
      validator: ({ refundId, amount }) => {
        if (view.refunds.some((refund) => refund.id === refundId)) return;
        valueOf(checkRefund(run.amounts(), amount, run.input.settings.maxRefunds));
      },
    },
  );
}

/** Keeps the newest ids only: older redeliveries are refused by the inbox's dedupe anyway. */
function remember(seen: Set<string>, eventId: string): void {
  seen.add(eventId);
  if (seen.size <= maxRememberedProviderEvents) return;
  const oldest = seen.values().next();
  if (!oldest.done) seen.delete(oldest.value);
}
