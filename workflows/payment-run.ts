import { patched } from '@temporalio/workflow';
import type { ErrorCode } from '../src/domain/errors.ts';
import { failureMessageFor } from '../src/domain/failure-messages.ts';
import type { PaymentAmounts } from '../src/domain/payment-state.ts';
import {
  afterRefund,
  captured,
  netOf,
  refundShare,
  uncapturedMoney,
  type PaymentMoney,
} from '../src/domain/payment-money.ts';
import type { LedgerStep } from '../src/domain/ledger-step.ts';
import { outcomeLookupScheduleOf } from '../src/domain/outcome-lookup.ts';
import type { ProviderCharge } from '../src/providers/provider.ts';
import * as cardOutcomes from './card-outcomes.ts';
import { businessFailure } from './failures.ts';
import type { LookupHost } from './outcome-lookup.ts';
import { FifoLock } from './fifo-lock.ts';
import { showPaymentStatus } from './status-attributes.ts';
import { taskMark } from './task-mark.ts';
import { books, cardProvider, compensations, records } from './payment-activities.ts';
import { openingView, type PaymentInput, type PaymentView, type RefundView } from '../src/domain/payment-view.ts';

// One payment's state inside its workflow and the steps that change it. Every transition is
// recorded by one local activity (read model, ledger posting and outbox event in one database
// transaction) before anyone is told about it: answers wait until what the API reads back
// from PostgreSQL is as new as what the workflow decided.

type ReleaseReason = 'requested' | 'authorization_expired' | 'review_rejected';

/** How many applied provider event ids a run keeps to recognize a redelivery. */
export const maxRememberedProviderEvents = 1_000;

/**
 * Card steps whose answer never came are looked up at the provider (workflows/card-outcomes.ts)
 * instead of being retried blind and, for an authorization, released by a resend. Runs that
 * recorded card steps before this replay them the first way.
 */
export const unknownOutcomesPatch = 'unknown-outcomes-by-lookup';

export class PaymentRun implements LookupHost {
  readonly view: PaymentView;
  money: PaymentMoney;
  /** Net proceeds still in merchant_pending, moved to available at settlement. */
  pendingNet = 0n;
  capturedAtProvider = false;
  reviewDecision: 'approve' | 'reject' | 'cancel' | undefined;
  /** Operators' requests to look a step in doubt up again (lookUpAgainSignal), counted. */
  lookupRequestCount = 0;
  /** Update handlers started so far: the run ends only in a task that started none. */
  updatesStarted = 0;
  readonly seenProviderEvents: Set<string>;
  readonly disputeIds: Set<string>;
  /** Compensations that must finish before the workflow does, but need not hold up the payment. */
  readonly background: Promise<unknown>[] = [];
  readonly lock = new FifoLock();
  private recordedVersion: number;
  /**
   * When the latest transition was recorded, as the recording activity read it: workflow code
   * reads no clock, so this is its "now" after each step.
   */
  lastRecordedAtMs: number;

  constructor(readonly input: PaymentInput) {
    const resume = input.resume;
    this.view = resume ? resume.view : openingView(input);
    this.money = resume ? resume.money : uncapturedMoney;
    this.seenProviderEvents = new Set(resume?.seenProviderEvents ?? []);
    this.disputeIds = new Set(resume?.disputeIds ?? []);
    this.recordedVersion = resume ? this.view.version : 0;
    this.lastRecordedAtMs = Date.parse(input.createdAt);
  }

  /** The read model holds the view's latest version. */
  recorded(): boolean {
    return this.recordedVersion === this.view.version;
  }

  amounts(): PaymentAmounts {
    return {
      status: this.view.status,
      amountCapturable: this.view.amountCapturable,
      amountCaptured: this.view.amountCaptured,
      amountRefunded: this.view.amountRefunded,
      amountDisputed: this.view.amountDisputed,
      refundCount: this.view.refunds.length,
    };
  }

  outcomeLookupScheduleMs(): readonly number[] {
    return outcomeLookupScheduleOf(this.input.settings);
  }

  lookupRequests(): number {
    return this.lookupRequestCount;
  }

  async requireAttention(facts: Record<string, unknown>): Promise<void> {
    await this.transition('payment.attention_required', { status: 'requires_attention' }, facts);
  }

  /** Records version 1 and returns the velocity facts for the risk check, in one step. */
  async open() {
    const facts = await records.openPayment({
      view: this.view,
      event: { version: 1, type: 'payment.created', data: {} },
      windowMs: this.input.settings.risk.velocityWindowMs,
    });
    this.recordedVersion = 1;
    return facts;
  }

  /**
   * Applies `changes` as the next version and records it, with the ledger step and refund
   * row that belong to it, in one transaction. On a refused step the view is left as it was.
   */
  async transition(
    type: string,
    changes: Partial<PaymentView>,
    data: Record<string, unknown> = {},
    effects: { ledger?: LedgerStep; refund?: RefundView } = {},
  ): Promise<{ transactionId: string | null; recordedAtMs: number }> {
    const before = { ...this.view };
    Object.assign(this.view, changes);
    this.view.version += 1;
    const event = { version: this.view.version, type, data };
    const record = { view: this.view, event, ...effects, taskMark: taskMark() };
    let recorded: { transactionId: string | null; recordedAtMs: number };
    try {
      // A ledger step follows money that has really moved: it must land, so it retries for days.
      recorded = effects.ledger ? await books.recordTransition(record) : await records.recordTransition(record);
    } catch (error) {
      Object.assign(this.view, before);
      throw error;
    }
    this.lastRecordedAtMs = recorded.recordedAtMs;
    this.recordedVersion = Math.max(this.recordedVersion, record.event.version);
    if (this.view.status !== before.status) showPaymentStatus(this.view.status);
    return recorded;
  }

  fail(code: ErrorCode, data: Record<string, unknown> = {}): Promise<unknown> {
    const changes = { status: 'failed', failureCode: code, failureMessage: failureMessageFor(code) } as const;
    return this.transition('payment.failed', { ...changes, amountCapturable: 0n }, { code, ...data });
  }

  cancel(reason: string, ledger?: LedgerStep): Promise<unknown> {
    const changes = { status: 'canceled', cancellationReason: reason, amountCapturable: 0n } as const;
    return this.transition('payment.canceled', changes, { reason }, ledger ? { ledger } : {});
  }

  /** Voids the card authorization or releases the wallet hold, then cancels. */
  async releaseAuthorization(reason: ReleaseReason): Promise<void> {
    const { view } = this;
    if (view.sourceType === 'card' && view.provider && view.providerChargeId) {
      if (patched(unknownOutcomesPatch)) await cardOutcomes.voidCard(this);
      else
        await compensations.voidCard({ paymentId: view.id, provider: view.provider, chargeId: view.providerChargeId });
      await this.cancel(reason);
      return;
    }
    const status = reason === 'authorization_expired' ? 'expired' : 'released';
    await this.cancel(reason, view.walletAccountId ? { kind: 'release_hold', status } : undefined);
  }

  /** Authorizes at the provider (capturing at once when automatic) or holds the wallet; false when it failed. */
  async authorize(): Promise<boolean> {
    try {
      if (this.input.source.type === 'card') await this.authorizeCard(this.input.source);
      else
        await records.holdWallet({
          paymentId: this.view.id,
          accountId: this.input.source.accountId,
          amount: this.view.amount,
          authorizationExpiryMs: this.input.settings.authorizationExpiryMs,
        });
      return true;
    } catch (error) {
      const failure = businessFailure(error);
      if (!failure) throw error;
      await this.fail(failure.type);
      return false;
    }
  }

  private async authorizeCard(source: Extract<PaymentInput['source'], { type: 'card' }>): Promise<void> {
    const { view } = this;
    const request = {
      paymentId: view.id,
      amount: view.amount,
      currency: view.currency,
      token: source.token,
      capture: view.captureMethod === 'automatic',
    };
    if (patched(unknownOutcomesPatch)) {
      this.takeCharge(await cardOutcomes.authorizeCard(this, { ...request, provider: source.provider }));
      return;
    }
    const charge = await cardProvider.authorizeCard({ ...request, provider: source.provider });
    const orphans = charge.orphanProviders;
    if (orphans?.length) {
      // In the background: the payment goes on with the provider that answered, while a
      // provider that timed out is asked what it did and anything it holds is released.
      this.background.push(
        compensations
          .releaseOrphanAuthorizations({ ...request, providers: orphans })
          .catch(() => this.transition('orphan_release_failed', {}, { providers: orphans })),
      );
    }
    this.takeCharge(charge);
  }

  /** The authorized charge becomes the payment's; the next transition records it. */
  private takeCharge(charge: ProviderCharge): void {
    this.capturedAtProvider = charge.status === 'captured';
    Object.assign(this.view, {
      provider: charge.provider,
      providerChargeId: charge.chargeId,
      cardBrand: charge.card.brand,
      cardLast4: charge.card.last4,
    });
  }

  /** Captures at the provider unless it already did (automatic capture), then books it. */
  async capture(amount: bigint): Promise<void> {
    const { view } = this;
    if (view.sourceType === 'card' && !this.capturedAtProvider && view.provider && view.providerChargeId) {
      if (patched(unknownOutcomesPatch)) await cardOutcomes.captureCard(this, amount);
      else
        await cardProvider.captureCard({
          paymentId: view.id,
          provider: view.provider,
          chargeId: view.providerChargeId,
          amount,
        });
      this.capturedAtProvider = true;
    }
    const money = captured(amount, view.currency, this.input.settings.fee);
    await this.transition(
      'payment.succeeded',
      { status: 'succeeded', amountCaptured: amount, amountCapturable: 0n, fee: money.fee, netAmount: netOf(money) },
      { amount, fee: money.fee },
      { ledger: { kind: 'capture', amount, fee: money.fee } },
    );
    this.money = money;
    this.pendingNet = netOf(money);
  }

  /** A refund we make, or (with `external`) one the provider reports that we did not make. */
  async refund(
    refundId: string,
    amount: bigint,
    reason: string | null,
    external?: { providerRefundId: string | null },
  ): Promise<RefundView> {
    const { view } = this;
    const share = refundShare(this.money, view.currency, amount);
    let providerRefundId = external ? external.providerRefundId : null;
    if (!external && view.sourceType === 'card' && view.provider && view.providerChargeId) {
      if (patched(unknownOutcomesPatch)) {
        providerRefundId = await cardOutcomes.refundCard(this, refundRecord(view.id, refundId, amount, reason));
      } else {
        const result = await cardProvider.refundCard({
          paymentId: view.id,
          refundId,
          provider: view.provider,
          chargeId: view.providerChargeId,
          amount,
        });
        providerRefundId = result.refundId;
      }
    }
    const record: RefundView = {
      id: refundId,
      paymentId: view.id,
      amount,
      reason,
      status: 'succeeded',
      providerRefundId,
      transactionId: null,
      // Set from the recording below: when the refund was booked.
      createdAt: '',
    };
    const fromPending = !view.settled;
    // A refund recorded as pending while its outcome was looked up is replaced, and a payment
    // that required attention for it is succeeded again.
    const refunds = view.refunds.some((refund) => refund.id === refundId)
      ? view.refunds.map((refund) => (refund.id === refundId ? record : refund))
      : [...view.refunds, record];
    const recorded = await this.transition(
      'refund.succeeded',
      {
        refunds,
        amountRefunded: view.amountRefunded + amount,
        ...(view.status === 'succeeded' ? {} : { status: 'succeeded' as const }),
      },
      { refund_id: refundId, amount, ...(external ? { initiated_by: 'provider' } : {}) },
      { ledger: { kind: 'refund', refundId, amount, feeBack: share.feeBack, fromPending }, refund: record },
    );
    record.transactionId = recorded.transactionId;
    record.createdAt = new Date(recorded.recordedAtMs).toISOString();
    this.money = afterRefund(this.money, share);
    if (fromPending) this.pendingNet -= amount - share.feeBack;
    return record;
  }

  /** The merchant's pending proceeds become available. */
  async settle(): Promise<void> {
    const amount = this.pendingNet;
    await this.transition(
      'payment.settled',
      { settled: true },
      {},
      amount > 0n ? { ledger: { kind: 'settlement', amount } } : {},
    );
    this.pendingNet = 0n;
  }
}

/** A refund of ours as recorded before its outcome is known; `createdAt` is set when recorded. */
function refundRecord(paymentId: string, refundId: string, amount: bigint, reason: string | null): RefundView {
  return {
    id: refundId,
    paymentId,
    amount,
    reason,
    status: 'pending',
    providerRefundId: null,
    transactionId: null,
    createdAt: '',
  };
}
