import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  foldPayment,
  type PaymentOrigin,
  type RecordedPaymentEvent,
  type RecordedRefund,
} from '../../src/domain/payment-history.ts';
import { failureMessageFor } from '../../src/domain/failure-messages.ts';
import { defaultFeeSchedule } from '../../src/domain/fees.ts';
import {
  afterDispute,
  afterRefund,
  boundedByRefundable,
  captured,
  netOf,
  refundable,
  refundShare,
  uncapturedMoney,
  type PaymentMoney,
} from '../../src/domain/payment-money.ts';
import type { ErrorCode } from '../../src/domain/errors.ts';
import { presentPayment, type Payment, type PaymentFacts } from '../../src/payments/public-payment.ts';
import { jsonSafe } from '../../src/events/outbox.ts';

// The fold behind GET /v1/payments/:id?at= against a model of the payment workflow's
// transitions (workflows/payment-run.ts): every generated life of a payment records its events
// and its read model after each one, as the transition statement does, and folding the first k
// events must give exactly the read model after k. The integration side (payments.test.ts)
// checks the same against every payment the real workflow made.

type Step =
  | { kind: 'refund'; amount: bigint; reason: string | null }
  | { kind: 'provider_refund'; amount: bigint }
  | { kind: 'dispute'; amount: bigint }
  | { kind: 'settle' };

interface Life {
  amount: bigint;
  source: 'card' | 'wallet';
  captureMethod: 'automatic' | 'manual';
  requestedProvider: 'stripe' | 'paypal' | null;
  review: 'none' | 'approve' | 'reject' | 'timeout' | 'cancel';
  authorization: 'ok' | 'declined' | 'blocked';
  orphanReleaseFailed: boolean;
  manual: { outcome: 'capture' | 'cancel' | 'expire'; capturePart: number };
  steps: Step[];
  customer: string | null;
  metadata: Record<string, string> | null;
}

const amount = fc.bigInt({ min: 1n, max: 10_000_000n });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('refund' as const),
    amount,
    reason: fc.constantFrom(null, 'requested_by_customer', 'duplicate'),
  }),
  fc.record({ kind: fc.constant('provider_refund' as const), amount }),
  fc.record({ kind: fc.constant('dispute' as const), amount }),
  fc.record({ kind: fc.constant('settle' as const) }),
);

const life: fc.Arbitrary<Life> = fc.record({
  amount,
  source: fc.constantFrom('card' as const, 'wallet' as const),
  captureMethod: fc.constantFrom('automatic' as const, 'manual' as const),
  requestedProvider: fc.constantFrom(null, 'stripe' as const, 'paypal' as const),
  review: fc.constantFrom(
    'none' as const,
    'none' as const,
    'approve' as const,
    'reject' as const,
    'timeout' as const,
    'cancel' as const,
  ),
  authorization: fc.constantFrom('ok' as const, 'ok' as const, 'ok' as const, 'declined' as const, 'blocked' as const),
  orphanReleaseFailed: fc.boolean(),
  manual: fc.record({
    outcome: fc.constantFrom('capture' as const, 'capture' as const, 'cancel' as const, 'expire' as const),
    capturePart: fc.integer({ min: 1, max: 100 }),
  }),
  steps: fc.array(step, { maxLength: 12 }),
  customer: fc.constantFrom(null, 'cus_1'),
  metadata: fc.constantFrom(null, { order: '42' }),
});

interface Recorded {
  origin: PaymentOrigin;
  events: RecordedPaymentEvent[];
  refunds: RecordedRefund[];
  /** The read model after 0, 1, … n events: what GET answered at each of those instants. */
  readModel: Payment[];
  /** How many events the payment had when its card was authorized (its facts recorded). */
  authorizedAt: number | undefined;
}

/** A payment's life as the workflow records it: each transition a new version of the view and an event. */
function record(life: Life): Recorded {
  const startMs = Date.parse('2026-12-01T10:00:00.000Z');
  const view: PaymentFacts & { cardFingerprint: null } = {
    id: 'pay_1',
    status: 'processing',
    amount: life.amount,
    currency: 'USD',
    captureMethod: life.captureMethod,
    amountCapturable: 0n,
    amountCaptured: 0n,
    amountRefunded: 0n,
    fee: null,
    netAmount: null,
    sourceType: life.source,
    provider: life.source === 'card' ? life.requestedProvider : null,
    cardBrand: null,
    cardLast4: null,
    walletAccountId: life.source === 'wallet' ? 'acct_wallet' : null,
    customer: life.customer,
    description: null,
    metadata: life.metadata,
    failureCode: null,
    failureMessage: null,
    cancellationReason: null,
    settled: false,
    createdAt: new Date(startMs),
    refunds: [],
    cardFingerprint: null,
  };
  const events: RecordedPaymentEvent[] = [];
  const refunds: RecordedRefund[] = [];
  const readModel: Payment[] = [presentPayment(view)];
  let authorizedAt: number | undefined;
  const at = () => new Date(startMs + (events.length + 1) * 1_000);
  const transition = (type: string, changes: Partial<PaymentFacts>, data: Record<string, unknown> = {}) => {
    Object.assign(view, changes);
    // Stored as JSON, amounts as integers, as the transition statement writes them.
    events.push({ version: events.length + 1, type, data: jsonSafe(data), createdAt: at() });
    readModel.push(presentPayment(view));
  };
  const fail = (code: ErrorCode, data: Record<string, unknown> = {}) =>
    transition(
      'payment.failed',
      { status: 'failed', failureCode: code, failureMessage: failureMessageFor(code), amountCapturable: 0n },
      { code, ...data },
    );
  const cancel = (reason: string) =>
    transition(
      'payment.canceled',
      { status: 'canceled', cancellationReason: reason, amountCapturable: 0n },
      { reason },
    );

  transition('payment.created', {});
  const finish = (): Recorded => ({
    origin: { ...view, createdAt: view.createdAt as Date },
    events,
    refunds,
    readModel,
    authorizedAt,
  });

  if (life.authorization === 'blocked') {
    fail('payment_blocked', { rule: 'block_above_amount' });
    return finish();
  }
  if (life.review !== 'none') {
    transition('payment.requires_review', { status: 'requires_review' }, { rule: 'review_above_amount' });
    if (life.review !== 'approve') {
      cancel(life.review === 'reject' ? 'review_rejected' : life.review === 'timeout' ? 'review_timeout' : 'requested');
      return finish();
    }
    transition('payment.review_approved', { status: 'processing' });
  }
  if (life.authorization === 'declined') {
    fail(life.source === 'card' ? 'card_declined' : 'insufficient_funds');
    return finish();
  }
  // The authorization's facts go into the view now and into the read model with the next transition.
  if (life.source === 'card') {
    Object.assign(view, { provider: life.requestedProvider ?? 'stripe', cardBrand: 'visa', cardLast4: '4242' });
    authorizedAt = events.length + 1;
  }
  let money: PaymentMoney = uncapturedMoney;
  const capture = (value: bigint) => {
    money = captured(value, 'USD', defaultFeeSchedule);
    transition(
      'payment.succeeded',
      { status: 'succeeded', amountCaptured: value, amountCapturable: 0n, fee: money.fee, netAmount: netOf(money) },
      { amount: value, fee: money.fee },
    );
  };
  if (life.captureMethod === 'automatic') capture(life.amount);
  else {
    transition('payment.requires_capture', { status: 'requires_capture', amountCapturable: life.amount });
    if (life.orphanReleaseFailed) transition('orphan_release_failed', {}, { providers: ['paypal'] });
    if (life.manual.outcome !== 'capture') {
      cancel(life.manual.outcome === 'cancel' ? 'requested' : 'authorization_expired');
      return finish();
    }
    capture((life.amount * BigInt(life.manual.capturePart)) / 100n || 1n);
  }
  let refundCount = 0;
  for (const next of life.steps) {
    if (next.kind === 'settle') {
      if (!view.settled) transition('payment.settled', { settled: true });
      continue;
    }
    if (next.kind === 'dispute') {
      const disputed = boundedByRefundable(money, next.amount);
      if (disputed === 0n) continue;
      transition('payment.dispute_created', {}, { dispute_id: `dp_${events.length}`, amount: disputed, funded: true });
      money = afterDispute(money, disputed);
      continue;
    }
    const refunded =
      next.kind === 'refund'
        ? next.amount <= refundable(money)
          ? next.amount
          : 0n
        : boundedByRefundable(money, next.amount);
    if (refunded === 0n) continue;
    const id = `re_${++refundCount}`;
    // A refund's row is stamped when it is recorded, a moment before its event's statement runs.
    const row: RecordedRefund = {
      id,
      paymentId: view.id,
      amount: refunded,
      reason: next.kind === 'refund' ? next.reason : null,
      status: 'succeeded',
      createdAt: new Date(at().getTime() - 1),
    };
    refunds.push(row);
    transition(
      'refund.succeeded',
      { refunds: [...view.refunds, row], amountRefunded: view.amountRefunded + refunded },
      { refund_id: id, amount: refunded, ...(next.kind === 'provider_refund' ? { initiated_by: 'provider' } : {}) },
    );
    money = afterRefund(money, refundShare(money, 'USD', refunded));
  }
  return finish();
}

describe('a payment at any past moment', () => {
  it('folding the events recorded by any instant gives the read model of that instant', () => {
    fc.assert(
      fc.property(life, (generated) => {
        const { origin, events, refunds, readModel, authorizedAt } = record(generated);
        for (let count = 0; count <= events.length; count++) {
          const expected = readModel[count];
          // Documented: a provider named in the request shows only from the authorization on
          // when the payment got one (the events do not record the request).
          if (expected?.source.type === 'card' && authorizedAt !== undefined && count < authorizedAt) {
            expected.source.provider = null;
          }
          expect(presentPayment(foldPayment(origin, events.slice(0, count), refunds))).toEqual(expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never shows more refunded than captured, and lists exactly the refunds it counts', () => {
    fc.assert(
      fc.property(life, fc.nat(), (generated, cut) => {
        const { origin, events, refunds } = record(generated);
        const folded = foldPayment(origin, events.slice(0, cut % (events.length + 1)), refunds);
        expect(folded.amountRefunded).toBeLessThanOrEqual(folded.amountCaptured);
        expect(folded.refunds.reduce((sum, refund) => sum + refund.amount, 0n)).toBe(folded.amountRefunded);
      }),
    );
  });

  it('takes amounts the first workflow version wrote as digit strings', () => {
    const { origin, events, refunds } = record({
      amount: 5_000n,
      source: 'card',
      captureMethod: 'automatic',
      requestedProvider: null,
      review: 'none',
      authorization: 'ok',
      orphanReleaseFailed: false,
      manual: { outcome: 'capture', capturePart: 100 },
      steps: [{ kind: 'refund', amount: 1_000n, reason: null }],
      customer: null,
      metadata: null,
    });
    const asStrings = events.map((event) => ({
      ...event,
      data: Object.fromEntries(
        Object.entries(event.data as Record<string, unknown>).map(([key, value]) => [
          key,
          typeof value === 'number' ? String(value) : value,
        ]),
      ),
    }));
    expect(foldPayment(origin, asStrings, refunds)).toEqual(foldPayment(origin, events, refunds));
    expect(foldPayment(origin, asStrings, refunds)).toMatchObject({ amountCaptured: 5_000n, amountRefunded: 1_000n });
  });

  it('refuses a transition it does not know rather than answer a wrong past', () => {
    const { origin } = record({
      amount: 5_000n,
      source: 'card',
      captureMethod: 'automatic',
      requestedProvider: null,
      review: 'none',
      authorization: 'ok',
      orphanReleaseFailed: false,
      manual: { outcome: 'capture', capturePart: 100 },
      steps: [],
      customer: null,
      metadata: null,
    });
    expect(() =>
      foldPayment(origin, [{ version: 1, type: 'payment.something_new', data: {}, createdAt: new Date() }], []),
    ).toThrow(/payment.something_new/);
  });
});
