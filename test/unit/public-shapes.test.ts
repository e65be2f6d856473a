import { describe, expect, it } from 'vitest';
import { openingView, type PaymentView, type RefundView } from '../../src/domain/payment-view.ts';
import { defaultFeeSchedule } from '../../src/domain/fees.ts';
import { Payment, presentPayment } from '../../src/payments/public-payment.ts';
import { Refund, presentRefund } from '../../src/payments/public-refund.ts';
import { presentTimeline } from '../../src/payments/public-payment-timeline.ts';
import { Deposit, presentDeposit } from '../../src/deposits/public-deposit.ts';
import { Transfer, presentTransfer } from '../../src/transfers/public-transfer.ts';
import { presentEndpoint } from '../../src/webhooks/endpoints.ts';
import { announcement } from '../../src/payments/read-model.ts';

// Each resource's public projection shows exactly its public fields, whatever internal facts
// the record it is built from carries, and exactly the fields its response schema declares.

const keysOf = (value: object) => Object.keys(value).sort();
const schemaKeys = (schema: { properties: object }) => Object.keys(schema.properties).sort();

const refund: RefundView = {
  id: 're_1',
  paymentId: 'pay_1',
  amount: 2_500n,
  reason: 'requested_by_customer',
  status: 'succeeded',
  providerRefundId: 're_provider_1',
  transactionId: 'txn_1',
  createdAt: '2026-12-01T00:00:05.000Z',
};

const captured: PaymentView = {
  ...openingView({
    paymentId: 'pay_1',
    merchantId: 'mer_1',
    amount: 10_000n,
    currency: 'USD',
    captureMethod: 'automatic',
    source: { type: 'card', token: 'tok_visa' },
    customer: 'cus_1',
    description: null,
    metadata: { order: '7' },
    cardFingerprint: 'fingerprint',
    createdAt: '2026-12-01T00:00:00.000Z',
    settings: {
      authorizationExpiryMs: 1,
      reviewTimeoutMs: 1,
      settlementDelayMs: 1,
      refundWindowMs: 1,
      maxRefunds: 1,
      fee: defaultFeeSchedule,
      risk: {
        reviewAboveMinor: {},
        blockAboveMinor: {},
        maxPaymentsPerWindow: 1,
        velocityWindowMs: 1,
        blockedCustomers: [],
        blockedCards: [],
      },
    },
  }),
  status: 'succeeded',
  amountCaptured: 10_000n,
  amountRefunded: 2_500n,
  amountDisputed: 1_000n,
  fee: 320n,
  netAmount: 9_680n,
  provider: 'stripe',
  providerChargeId: 'ch_secret',
  cardBrand: 'visa',
  cardLast4: '4242',
  refunds: [refund],
  version: 4,
};

describe('public projections', () => {
  it('a payment: its public fields only, amounts as numbers, the refunds in their own shape', () => {
    const shown = presentPayment(captured);
    // `events` only on request (expand[]=events): every other field, always.
    expect(keysOf(shown)).toEqual(schemaKeys(Payment).filter((key) => key !== 'events'));
    expect(keysOf(presentPayment(captured, { refunds: true, events: [] }))).toEqual(schemaKeys(Payment));
    // A list's payment leaves out its refunds unless asked (expand[]=refunds).
    expect(keysOf(presentPayment(captured, { refunds: false }))).toEqual(
      schemaKeys(Payment).filter((key) => key !== 'events' && key !== 'refunds'),
    );
    expect(keysOf(shown)).toEqual(
      [
        'id',
        'object',
        'status',
        'amount',
        'currency',
        'amount_capturable',
        'amount_captured',
        'amount_refunded',
        'refunded',
        'fee',
        'net_amount',
        'source',
        'customer',
        'description',
        'metadata',
        'capture_method',
        'failure_code',
        'failure_message',
        'cancellation_reason',
        'settled',
        'created_at',
        'refunds',
      ].sort(),
    );
    expect(shown).toMatchObject({ amount: 10_000, fee: 320, net_amount: 9_680, amount_refunded: 2_500 });
    expect(shown.source).toEqual({ type: 'card', brand: 'visa', last4: '4242', provider: 'stripe' });
    expect(shown.refunds).toEqual([presentRefund(refund)]);
    expect(JSON.stringify(shown)).not.toMatch(/ch_secret|fingerprint|mer_1|re_provider_1|txn_1/);
  });

  it('a refund: its public fields only, created_at as recorded', () => {
    const shown = presentRefund(refund);
    expect(keysOf(shown)).toEqual(schemaKeys(Refund));
    expect(shown).toEqual({
      id: 're_1',
      object: 'refund',
      payment_id: 'pay_1',
      amount: 2_500,
      status: 'succeeded',
      reason: 'requested_by_customer',
      created_at: '2026-12-01T00:00:05.000Z',
    });
    expect(presentRefund({ ...refund, createdAt: new Date(refund.createdAt) })).toEqual(shown);
  });

  it('a deposit and a transfer: the row without merchant_id or updated_at', () => {
    const at = new Date('2026-12-01T00:00:00.000Z');
    const row = { merchantId: 'mer_1', updatedAt: at, createdAt: at, transactionId: 'txn_1', amount: 500n };
    const deposit = presentDeposit({
      ...row,
      id: 'dep_1',
      accountId: 'acct_1',
      currency: 'USD',
      reference: 'wire',
      status: 'succeeded',
    });
    expect(keysOf(deposit)).toEqual(schemaKeys(Deposit));
    expect(deposit).toMatchObject({ amount: 500, created_at: '2026-12-01T00:00:00.000Z' });
    const transferRow = {
      ...row,
      id: 'tr_1',
      fromAccountId: 'acct_1',
      toAccountId: 'acct_2',
      currency: 'USD',
      description: null,
      status: 'failed',
      failureCode: 'insufficient_funds',
      failureMessage: 'Not enough money.',
    };
    const transfer = presentTransfer(transferRow);
    expect(keysOf(transfer)).toEqual(schemaKeys(Transfer));
    expect(transfer).toMatchObject({ amount: 500, status: 'failed' });
    // A status the API does not know is a programmer error, not something to show.
    expect(() => presentTransfer({ ...transferRow, status: 'reversed' })).toThrow();
  });

  it('a webhook endpoint: never its secret unless asked', () => {
    const endpoint = {
      id: 'we_1',
      url: 'https://example.com/hooks',
      events: ['*'],
      status: 'disabled',
      disabledReason: 'delivery_failures',
      createdAt: new Date('2026-12-01T00:00:00.000Z'),
      secret: 'whsec_secret',
      previousSecret: 'whsec_previous',
      previousSecretExpiresAt: new Date('2026-12-02T00:00:00.000Z'),
      merchantId: 'mer_1',
      failingSince: new Date(),
    };
    expect(keysOf(presentEndpoint(endpoint))).toEqual(
      ['id', 'object', 'url', 'events', 'status', 'disabled_reason', 'previous_secret_expires_at', 'created_at'].sort(),
    );
  });

  it('the timeline: public transitions only, their public facts, amounts as integers even when recorded as text', () => {
    const at = new Date('2026-12-01T00:00:00.000Z');
    expect(
      presentTimeline([
        { type: 'payment.created', data: {}, createdAt: at },
        { type: 'payment.failed', data: { code: 'payment_blocked', rule: 'velocity' }, createdAt: at },
        { type: 'payment.succeeded', data: { amount: '10000', fee: 320 }, createdAt: at },
        { type: 'orphan_release_failed', data: { providers: ['paypal'] }, createdAt: at },
        { type: 'payment.dispute_created', data: { dispute_id: 'dp_1', amount: 1_000, funded: false }, createdAt: at },
      ]),
    ).toEqual([
      { type: 'payment.created', created_at: at.toISOString(), data: {} },
      { type: 'payment.failed', created_at: at.toISOString(), data: { code: 'payment_blocked', rule: 'velocity' } },
      { type: 'payment.succeeded', created_at: at.toISOString(), data: { amount: 10_000, fee: 320 } },
      { type: 'payment.dispute_created', created_at: at.toISOString(), data: { dispute_id: 'dp_1', amount: 1_000 } },
    ]);
  });

  it('announces a refund with the refund, a payment transition with the payment', () => {
    const refunded = announcement(captured, { version: 4, type: 'refund.succeeded', data: { refund_id: 're_1' } });
    expect(refunded).toEqual({
      merchantId: 'mer_1',
      type: 'refund.succeeded',
      resourceId: 're_1',
      data: presentRefund(refund),
      sourceKey: 'payment:pay_1:4',
    });
    const settled = announcement(captured, { version: 5, type: 'payment.settled', data: {} });
    expect(settled?.data).toEqual(presentPayment(captured));
    expect(() =>
      announcement(captured, { version: 6, type: 'refund.succeeded', data: { refund_id: 're_x' } }),
    ).toThrow();
  });
});
