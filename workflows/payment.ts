import { allHandlersFinished, condition, continueAsNew, patched, sleep, workflowInfo } from '@temporalio/workflow';
import { refundable } from '../src/domain/payment-money.ts';
import { isInDoubt } from '../src/domain/payment-state.ts';
import { assessPayment } from '../src/domain/risk.ts';
import { registerPaymentHandlers } from './payment-handlers.ts';
import { PaymentRun } from './payment-run.ts';
import type { PaymentInput, PaymentView } from '../src/domain/payment-view.ts';

// Version 2 of the payment workflow (docs/adr/0001-payment-workflow-v2.md): every step is a
// local activity, so an automatic card payment is answered after one workflow task.

/** Runs continue as new past this many history events unless the settings say otherwise. */
const defaultContinueAsNewAfterEvents = 2_000;

/**
 * A run ends (completes or continues as new) in a workflow task that answers no update. A
 * signal arriving while the task that ends the run is in flight makes the server refuse that
 * task (UnhandledCommand) and drop the updates it answered, after their local activities took
 * effect: a refund made at the provider and booked, then forgotten by the workflow. Runs that
 * ended before this keep replaying their old ending.
 */
export const quietEndPatch = 'end-in-a-quiet-task';

/** How long the workflow waits for a task of its own before ending: the shortest timer. */
const quietTaskTimerMs = 1;

/**
 * One payment, workflow id = payment id: risk check → authorize (provider charge, captured in
 * the same call when automatic, or a wallet hold) → [wait for capture when manual, void at
 * expiry] → book the capture → settlement after a durable timer → open for refunds until the
 * refund window closes, continuing as new when the history grows long.
 */
export async function paymentWorkflowV2(input: PaymentInput): Promise<PaymentView> {
  const run = new PaymentRun(input);
  registerPaymentHandlers(run);
  if (!input.resume) await lifecycle(run);
  if (run.view.status === 'succeeded') await refundWindow(run);
  await Promise.all(run.background);
  await condition(allHandlersFinished);
  await endInQuietTask(run);
  return run.view;
}

/**
 * Waits for a workflow task in which no update ran, every handler and step finished: the run
 * then ends in that task. An update that arrives meanwhile is answered first, in a task that
 * does not end the run.
 */
async function endInQuietTask(run: PaymentRun): Promise<void> {
  if (!patched(quietEndPatch)) return;
  for (;;) {
    await condition(() => run.lock.idle() && allHandlersFinished());
    const updatesBefore = run.updatesStarted;
    await sleep(quietTaskTimerMs);
    if (run.updatesStarted === updatesBefore && run.lock.idle() && allHandlersFinished()) return;
  }
}

async function lifecycle(run: PaymentRun): Promise<void> {
  const { settings } = run.input;
  const facts = await run.open();
  const { view } = run;
  const card = run.input.source.type === 'card' ? run.input.source.token : null;
  const risk = assessPayment(
    { amount: view.amount, currency: view.currency, customer: view.customer, card, ...facts },
    settings.risk,
  );
  if (risk.outcome === 'block') {
    await run.fail('payment_blocked', { rule: risk.rule });
    return;
  }
  if (risk.outcome === 'review' && !(await review(run, risk.rule))) return;

  if (!(await run.lock.run(() => run.authorize()))) return;
  if (view.captureMethod === 'automatic') {
    await run.lock.run(() => run.capture(view.amount));
  } else {
    await awaitCapture(run);
  }
  if (view.status !== 'succeeded') return;
  await sleep(settings.settlementDelayMs);
  await run.lock.run(() => run.settle());
}

/**
 * Waits for the capture, a cancel or the authorization's expiry (then voided). A capture or
 * void whose answer never came holds the payment in `processing` (or `requires_attention`)
 * until its outcome is known; a capture found not made leaves the payment waiting again for
 * what remains of the authorization's time.
 */
async function awaitCapture(run: PaymentRun): Promise<void> {
  const { view } = run;
  const { authorizationExpiryMs } = run.input.settings;
  const authorized = await run.transition('payment.requires_capture', {
    status: 'requires_capture',
    amountCapturable: view.amount,
  });
  const expiresAtMs = authorized.recordedAtMs + authorizationExpiryMs;
  let waitMs = authorizationExpiryMs;
  for (;;) {
    const decided = waitMs > 0 && (await condition(() => view.status !== 'requires_capture', waitMs));
    if (!decided) {
      await run.lock.run(async () => {
        if (view.status === 'requires_capture') await run.releaseAuthorization('authorization_expired');
      });
      return;
    }
    if (!isInDoubt(view.status)) return;
    await condition(() => !isInDoubt(view.status));
    if (view.status !== 'requires_capture') return;
    waitMs = expiresAtMs - run.lastRecordedAtMs;
  }
}

/** Waits for an operator's decision; true when approved. */
async function review(run: PaymentRun, rule: string): Promise<boolean> {
  await run.transition('payment.requires_review', { status: 'requires_review' }, { rule });
  const decided = await condition(() => run.reviewDecision !== undefined, run.input.settings.reviewTimeoutMs);
  if (run.reviewDecision !== 'approve') {
    const reason = !decided ? 'review_timeout' : run.reviewDecision === 'reject' ? 'review_rejected' : 'requested';
    await run.cancel(reason);
    return false;
  }
  await run.transition('payment.review_approved', { status: 'processing' });
  return true;
}

/**
 * Open for refunds and provider events until the window closes or nothing is left to refund.
 * A long history is handed on to a new run with the state it reached.
 */
async function refundWindow(run: PaymentRun): Promise<void> {
  const { settings, createdAt } = run.input;
  const closesAtMs = Date.parse(createdAt) + settings.refundWindowMs;
  const maxEvents = settings.continueAsNewAfterEvents ?? defaultContinueAsNewAfterEvents;
  const historyLong = () => workflowInfo().historyLength > maxEvents || workflowInfo().continueAsNewSuggested;
  // A resumed run starts when its predecessor handed over; otherwise the last step just recorded.
  const nowMs = run.input.resume ? workflowInfo().runStartTime.getTime() : run.lastRecordedAtMs;
  const remainingMs = closesAtMs - nowMs;
  if (remainingMs <= 0) return;
  await condition(() => refundable(run.money) === 0n || historyLong(), remainingMs);
  if (refundable(run.money) === 0n || !historyLong()) return;
  // Hand over only between steps: nothing in flight, every answer given.
  await condition(() => run.lock.idle() && allHandlersFinished());
  await Promise.all(run.background);
  await endInQuietTask(run);
  await continueAsNew<typeof paymentWorkflowV2>({
    ...run.input,
    resume: {
      view: run.view,
      money: run.money,
      seenProviderEvents: [...run.seenProviderEvents],
      disputeIds: [...run.disputeIds],
    },
  });
}
