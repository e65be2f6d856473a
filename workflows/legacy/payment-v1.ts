import {
  allHandlersFinished,
  condition,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activity-types.ts';
import { feeFor, refundedFeeShare } from '../../src/domain/fees.ts';
import { assessPayment } from '../../src/domain/risk.ts';
import {
  checkCancel,
  checkCapture,
  checkRefund,
  checkReview,
  isFinal,
  isStable,
  type PaymentStatus,
} from '../../src/domain/payment-state.ts';
import {
  compensationActivity,
  forwardRecoveryActivity,
  ledgerActivity,
  providerActivity,
} from '../activity-options.ts';
import {
  approveUpdate,
  awaitStableUpdate,
  cancelUpdate,
  captureUpdate,
  refundUpdate,
  providerEventSignal,
  rejectUpdate,
  statusQuery,
} from '../messages.ts';
import type { ProviderEvent } from '../../src/webhooks/inbound-events.ts';
import type { PaymentInput, PaymentView, RefundView } from '../../src/domain/payment-view.ts';
import { businessFailure, valueOf } from '../failures.ts';

const db = proxyActivities<Pick<Activities, 'recordPayment' | 'paymentRiskFacts' | 'holdWallet'>>(ledgerActivity);
const provider = proxyActivities<Pick<Activities, 'authorizeCard' | 'captureCard' | 'refundCard'>>(providerActivity);
// After money has irreversibly moved at the provider, the ledger must follow: forward
// recovery retries the posting for a long time instead of undoing the charge.
const forward =
  proxyActivities<Pick<Activities, 'postPaymentCapture' | 'postRefund' | 'postDispute' | 'settlePayment'>>(
    forwardRecoveryActivity,
  );
const compensate =
  proxyActivities<Pick<Activities, 'voidCard' | 'releaseWallet' | 'releaseOrphanAuthorizations'>>(compensationActivity);

// The first payment workflow version, kept unchanged in its commands so that payments started
// before the upgrade replay and finish on it; new payments run paymentWorkflowV2
// (workflows/payment.ts). Remove it once no run of this type is open (docs/adr/0001).

/**
 * One payment, workflow id = payment id: risk check → authorize (provider charge or wallet
 * hold) → [wait for capture when manual, void at expiry] → capture and post to the ledger →
 * settlement after a durable timer → open for refunds until the refund window closes.
 */
export async function paymentWorkflow(input: PaymentInput): Promise<PaymentView> {
  const { settings } = input;
  const view = initialView(input);
  // Money-moving steps never interleave: handlers and the main flow queue on one promise
  // chain (a FIFO mutex). A flag plus condition() is not enough: the SDK may wake every
  // waiter whose condition holds in the same activation.
  let lockTail: Promise<unknown> = Promise.resolve();
  let reviewDecision: 'approve' | 'reject' | 'cancel' | undefined;
  let capturedAtProvider = false;
  let pendingNet = 0n;
  // The last version written to the read model: answers wait for it, so what the API reads
  // back from PostgreSQL is never older than what the workflow just decided.
  let recordedVersion = 0;
  // Compensations that must finish before the workflow does, but need not hold up the payment.
  const background: Promise<unknown>[] = [];
  const recorded = () => recordedVersion === view.version;

  const withLock = <T>(run: () => Promise<T>): Promise<T> => {
    const result = lockTail.then(() => run());
    lockTail = result.catch(() => undefined);
    return result;
  };

  const transition = async (
    type: string,
    changes: Partial<PaymentView>,
    data: Record<string, unknown> = {},
  ): Promise<void> => {
    const before = view.status;
    Object.assign(view, changes);
    view.version += 1;
    if (view.status !== before) upsertSearchAttributes({ PaymentStatus: [view.status] });
    const version = view.version;
    await db.recordPayment({ view, event: { version, type, data } });
    recordedVersion = Math.max(recordedVersion, version);
  };

  const fail = (code: string, message: string) =>
    transition(
      'payment.failed',
      { status: 'failed', failureCode: code, failureMessage: message, amountCapturable: 0n },
      { code },
    );

  const cancel = (reason: string) =>
    transition(
      'payment.canceled',
      { status: 'canceled', cancellationReason: reason, amountCapturable: 0n },
      { reason },
    );

  const releaseAuthorization = async (reason: 'requested' | 'authorization_expired' | 'review_rejected') => {
    if (view.sourceType === 'card' && view.provider && view.providerChargeId) {
      await compensate.voidCard({ paymentId: view.id, provider: view.provider, chargeId: view.providerChargeId });
    } else if (view.walletAccountId) {
      await compensate.releaseWallet({
        paymentId: view.id,
        status: reason === 'authorization_expired' ? 'expired' : 'released',
      });
    }
    await cancel(reason);
  };

  const capture = async (amount: bigint): Promise<void> => {
    if (view.sourceType === 'card' && !capturedAtProvider && view.provider && view.providerChargeId) {
      await provider.captureCard({
        paymentId: view.id,
        provider: view.provider,
        chargeId: view.providerChargeId,
        amount,
      });
      capturedAtProvider = true;
    }
    const fee = feeFor(amount, view.currency, settings.fee);
    await forward.postPaymentCapture({
      paymentId: view.id,
      merchantId: view.merchantId,
      currency: view.currency,
      amount,
      fee,
      walletAccountId: view.walletAccountId,
    });
    pendingNet = amount - fee;
    await transition(
      'payment.succeeded',
      { status: 'succeeded', amountCaptured: amount, amountCapturable: 0n, fee, netAmount: amount - fee },
      { amount, fee },
    );
  };

  /** A refund we make, or (with `external`) one the provider reports that we did not make. */
  const refund = async (
    refundId: string,
    amount: bigint,
    reason: string | null,
    external?: { providerRefundId: string | null },
  ): Promise<RefundView> => {
    const captured = view.amountCaptured;
    const fee = view.fee ?? 0n;
    const feeBack =
      refundedFeeShare(fee, view.currency, view.amountRefunded + amount, captured) -
      refundedFeeShare(fee, view.currency, view.amountRefunded, captured);
    let providerRefundId: string | null = external ? external.providerRefundId : null;
    if (!external && view.sourceType === 'card' && view.provider && view.providerChargeId) {
      const result = await provider.refundCard({
        paymentId: view.id,
        refundId,
        provider: view.provider,
        chargeId: view.providerChargeId,
        amount,
      });
      providerRefundId = result.refundId;
    }
    const { transactionId, createdAt } = await forward.postRefund({
      paymentId: view.id,
      refundId,
      merchantId: view.merchantId,
      currency: view.currency,
      amount,
      feeBack,
      fromPending: !view.settled,
      walletAccountId: view.walletAccountId,
    });
    if (!view.settled) pendingNet -= amount - feeBack;
    const record: RefundView = {
      id: refundId,
      paymentId: view.id,
      amount,
      reason,
      status: 'succeeded',
      providerRefundId,
      transactionId,
      createdAt,
    };
    const amountRefunded = view.amountRefunded + amount;
    await transition(
      'refund.succeeded',
      { refunds: [...view.refunds, record], amountRefunded },
      { refund_id: refundId, amount, ...(external ? { initiated_by: 'provider' } : {}) },
    );
    return record;
  };

  const seenProviderEvents = new Set<string>();
  const disputes = new Set<string>();

  /** Money the provider moved on its side (refunds from its dashboard, disputes), applied once. */
  const applyProviderMoney = async (event: ProviderEvent): Promise<void> => {
    const remaining = view.amountCaptured - view.amountRefunded - view.amountDisputed;
    if (event.kind === 'refund_total') {
      // Totals only grow: an older total arriving late adds nothing.
      const missing = event.totalRefunded - view.amountRefunded;
      if (missing > 0n && remaining > 0n) {
        await refund(`re_${event.eventId}`, missing < remaining ? missing : remaining, null, {
          providerRefundId: null,
        });
      }
    } else if (event.kind === 'refund') {
      const known = view.refunds.some((r) => r.providerRefundId === event.refundId);
      if (!known && remaining > 0n) {
        const amount = event.amount < remaining ? event.amount : remaining;
        await refund(`re_${event.refundId}`, amount, null, { providerRefundId: event.refundId });
      }
    } else if (event.kind === 'dispute_created' && !disputes.has(event.disputeId)) {
      disputes.add(event.disputeId);
      const amount = event.amount < remaining ? event.amount : remaining;
      if (amount <= 0n) return;
      try {
        await forward.postDispute({
          paymentId: view.id,
          disputeId: event.disputeId,
          merchantId: view.merchantId,
          currency: view.currency,
          amount,
          fromPending: !view.settled,
        });
        if (!view.settled) pendingNet -= amount;
        // Disputed money is no longer refundable; runs that recorded a dispute before this fix
        // replay without it.
        if (patched('disputes-bound-refunds')) view.amountDisputed += amount;
        await transition('payment.dispute_created', {}, { dispute_id: event.disputeId, amount, funded: true });
      } catch (error) {
        const failure = businessFailure(error);
        if (!failure) throw error;
        await transition(
          'payment.dispute_created',
          {},
          { dispute_id: event.disputeId, amount, funded: false, code: failure.type },
        );
      }
    }
  };

  setHandler(statusQuery, () => view);

  // Provider webhooks arrive in any order and more than once: each is applied once (by event
  // id), and money events wait until our own capture is booked, so a refund reported before
  // the capture finished is buffered, never applied twice or to an unbooked payment.
  setHandler(providerEventSignal, async (event) => {
    if (seenProviderEvents.has(event.eventId)) return;
    seenProviderEvents.add(event.eventId);
    if (event.kind === 'refund_total' || event.kind === 'refund' || event.kind === 'dispute_created') {
      await condition(() => (view.status === 'succeeded' && recorded()) || isFinal(view.status));
      if (view.status === 'succeeded') await withLock(() => applyProviderMoney(event));
    }
  });

  setHandler(awaitStableUpdate, async ({ waitMs }) => {
    await condition(() => isStable(view.status) && recorded(), waitMs);
    return view;
  });

  setHandler(
    captureUpdate,
    ({ amount }) =>
      withLock(async () => {
        const checked = valueOf(checkCapture(amounts(view), amount));
        await capture(checked);
        return view;
      }),
    { validator: ({ amount }) => void valueOf(checkCapture(amounts(view), amount)) },
  );

  setHandler(
    cancelUpdate,
    async () => {
      if (view.status === 'requires_review') {
        reviewDecision = 'cancel';
        await condition(() => view.status !== 'requires_review' && isStable(view.status) && recorded());
        return view;
      }
      return withLock(async () => {
        valueOf(checkCancel(amounts(view)));
        await releaseAuthorization('requested');
        return view;
      });
    },
    { validator: () => void valueOf(checkCancel(amounts(view))) },
  );

  for (const [update, decision] of [
    [approveUpdate, 'approve'],
    [rejectUpdate, 'reject'],
  ] as const) {
    setHandler(
      update,
      async () => {
        valueOf(checkReview(amounts(view)));
        reviewDecision = decision;
        await condition(() => view.status !== 'requires_review' && isStable(view.status) && recorded());
        return view;
      },
      { validator: () => void valueOf(checkReview(amounts(view))) },
    );
  }

  setHandler(
    refundUpdate,
    ({ refundId, amount, reason }) =>
      withLock(async () => {
        const existing = view.refunds.find((r) => r.id === refundId);
        if (existing) return existing;
        const checked = valueOf(checkRefund(amounts(view), amount, settings.maxRefunds));
        return refund(refundId, checked, reason ?? null);
      }),
    {
      validator: ({ refundId, amount }) => {
        if (view.refunds.some((r) => r.id === refundId)) return;
        valueOf(checkRefund(amounts(view), amount, settings.maxRefunds));
      },
    },
  );

  await db.recordPayment({ view, event: { version: view.version, type: 'payment.created', data: {} } });
  recordedVersion = view.version;

  await run();
  await Promise.all(background);
  await condition(allHandlersFinished);
  return view;

  async function run(): Promise<void> {
    const facts = await db.paymentRiskFacts({
      paymentId: view.id,
      customer: view.customer,
      cardFingerprint: view.cardFingerprint,
      windowMs: settings.risk.velocityWindowMs,
    });
    const risk = assessPayment(
      {
        amount: view.amount,
        currency: view.currency,
        customer: view.customer,
        card: input.source.type === 'card' ? input.source.token : null,
        ...facts,
      },
      settings.risk,
    );
    if (risk.outcome === 'block')
      return fail('payment_blocked', `The payment was blocked by risk rules (${risk.rule}).`);
    if (risk.outcome === 'review') {
      await transition('payment.requires_review', { status: 'requires_review' }, { rule: risk.rule });
      const decided = await condition(() => reviewDecision !== undefined, settings.reviewTimeoutMs);
      if (!decided) return cancel('review_timeout');
      if (reviewDecision !== 'approve') return cancel(reviewDecision === 'reject' ? 'review_rejected' : 'requested');
      await transition('payment.review_approved', { status: 'processing' });
    }

    const authorized = await withLock(authorize);
    if (!authorized) return;

    if (view.captureMethod === 'automatic') {
      await withLock(() => capture(view.amount));
    } else {
      await transition('payment.requires_capture', { status: 'requires_capture', amountCapturable: view.amount });
      const decided = await condition(() => view.status !== 'requires_capture', settings.authorizationExpiryMs);
      if (!decided) {
        await withLock(async () => {
          if (view.status === 'requires_capture') await releaseAuthorization('authorization_expired');
        });
      }
    }
    if (view.status !== 'succeeded') return;

    await sleep(settings.settlementDelayMs);
    await withLock(async () => {
      if (pendingNet > 0n) {
        await forward.settlePayment({
          paymentId: view.id,
          merchantId: view.merchantId,
          currency: view.currency,
          amount: pendingNet,
        });
      }
      pendingNet = 0n;
      await transition('payment.settled', { settled: true });
    });
    await condition(() => view.amountRefunded === view.amountCaptured, settings.refundWindowMs);
  }

  /** Authorizes at the provider or places a wallet hold; false when the payment failed. */
  async function authorize(): Promise<boolean> {
    try {
      if (input.source.type === 'card') {
        const charge = await provider.authorizeCard({
          paymentId: view.id,
          amount: view.amount,
          currency: view.currency,
          token: input.source.token,
          provider: input.source.provider,
          capture: view.captureMethod === 'automatic',
        });
        capturedAtProvider = charge.status === 'captured';
        if (charge.orphanProviders?.length && patched('release-orphan-authorizations')) {
          // In the background: the payment goes on with the provider that answered, while a
          // provider that timed out is asked what it did and anything it holds is released.
          const providers = charge.orphanProviders;
          background.push(
            compensate
              .releaseOrphanAuthorizations({
                paymentId: view.id,
                amount: view.amount,
                currency: view.currency,
                token: input.source.token,
                capture: view.captureMethod === 'automatic',
                providers,
              })
              .catch((error: unknown) =>
                transition('payment.orphan_release_failed', {}, { providers, message: String(error) }),
              ),
          );
        }
        Object.assign(view, {
          provider: charge.provider,
          providerChargeId: charge.chargeId,
          cardBrand: charge.card.brand,
          cardLast4: charge.card.last4,
        });
      } else {
        await db.holdWallet({ paymentId: view.id, accountId: input.source.accountId, amount: view.amount });
      }
      return true;
    } catch (error) {
      const failure = businessFailure(error);
      if (!failure) throw error;
      await fail(failure.type, failure.message);
      return false;
    }
  }
}

function initialView(input: PaymentInput): PaymentView {
  return {
    id: input.paymentId,
    merchantId: input.merchantId,
    status: 'processing',
    amount: input.amount,
    currency: input.currency,
    captureMethod: input.captureMethod,
    amountCapturable: 0n,
    amountCaptured: 0n,
    amountRefunded: 0n,
    amountDisputed: 0n,
    fee: null,
    netAmount: null,
    sourceType: input.source.type,
    provider: input.source.type === 'card' ? (input.source.provider ?? null) : null,
    providerChargeId: null,
    cardBrand: null,
    cardLast4: null,
    cardFingerprint: input.cardFingerprint,
    walletAccountId: input.source.type === 'wallet' ? input.source.accountId : null,
    customer: input.customer,
    description: input.description,
    metadata: input.metadata,
    failureCode: null,
    failureMessage: null,
    cancellationReason: null,
    settled: false,
    refunds: [],
    version: 1,
    createdAt: input.createdAt,
  };
}

function amounts(view: PaymentView) {
  return {
    status: view.status as PaymentStatus,
    amountCapturable: view.amountCapturable,
    amountCaptured: view.amountCaptured,
    amountRefunded: view.amountRefunded,
    amountDisputed: view.amountDisputed,
    refundCount: view.refunds.length,
  };
}
