import { describe, expect, it } from 'vitest';
import {
  classifyPayment,
  judgeScenario,
  noLedger,
  verdictTable,
  type ChargeFact,
  type PaymentFacts,
} from '../../test/chaos/verdict.ts';

// The chaos verdict's classifier (test/chaos/verdict.ts) on small hand-made cases: one of each
// class, and the order in which a payment that is wrong in several ways is classed.

const captured = (amount: bigint, refunded = 0n): ChargeFact => ({
  provider: 'stripe',
  status: 'captured',
  amount,
  captured: amount,
  refunded,
});

/** A card payment of 1,000 captured and refunded 250, agreed on by everyone. */
const agreed = (): PaymentFacts => ({
  paymentId: 'pay_1',
  client: { idempotencyKey: 'k1', paymentIds: ['pay_1'], captured: 1_000n, refunded: 250n },
  ours: {
    status: 'succeeded',
    source: 'card',
    amount: 1_000n,
    captured: 1_000n,
    refunded: 250n,
    refunds: [{ id: 're_1', status: 'succeeded', amount: 250n }],
  },
  charges: [captured(1_000n, 250n)],
  ledger: { captureTransactions: 1, captured: 1_000n, refundTransactions: { re_1: 1 }, refunded: 250n },
});

describe('classifyPayment', () => {
  it('matches a card payment on which ours, the provider, the ledger and the client agree', () => {
    expect(classifyPayment(agreed())).toEqual({
      paymentId: 'pay_1',
      verdict: 'match',
      status: 'succeeded',
      final: true,
      reasons: [],
    });
  });

  it('matches a declined card payment: failed here, declined there, nothing in the ledger', () => {
    const facts: PaymentFacts = {
      paymentId: 'pay_2',
      ours: { status: 'failed', source: 'card', amount: 700n, captured: 0n, refunded: 0n, refunds: [] },
      charges: [{ provider: 'paypal', status: 'declined', amount: 700n, captured: 0n, refunded: 0n }],
      ledger: noLedger(),
    };
    expect(classifyPayment(facts)).toMatchObject({ verdict: 'match', final: true });
  });

  it('matches a canceled wallet payment whose hold was released', () => {
    const facts: PaymentFacts = {
      paymentId: 'pay_3',
      client: { idempotencyKey: 'k3', paymentIds: ['pay_3'], canceled: true, refunded: 0n },
      ours: { status: 'canceled', source: 'wallet', amount: 500n, captured: 0n, refunded: 0n, refunds: [] },
      charges: [],
      ledger: noLedger(),
      hold: { status: 'released', amount: 500n, captured: null },
    };
    expect(classifyPayment(facts)).toMatchObject({ verdict: 'match', final: true });
  });

  it('calls two charges for one payment a duplicate', () => {
    const facts = { ...agreed(), charges: [captured(1_000n, 250n), captured(1_000n)] };
    expect(classifyPayment(facts)).toMatchObject({ verdict: 'duplicate', reasons: ['2 charges at the provider'] });
  });

  it('calls a refund posted twice a duplicate', () => {
    const facts = agreed();
    facts.ledger = { ...facts.ledger, refundTransactions: { re_1: 2 }, refunded: 500n };
    expect(classifyPayment(facts)).toMatchObject({ verdict: 'duplicate', reasons: ['2 postings of refund re_1'] });
  });

  it('calls one key answered with two payment ids a duplicate', () => {
    const facts = agreed();
    facts.client = { idempotencyKey: 'k1', paymentIds: ['pay_1', 'pay_9'], refunded: 0n };
    expect(classifyPayment(facts)).toMatchObject({ verdict: 'duplicate' });
  });

  it('calls a charge with no payment of ours missing', () => {
    const facts: PaymentFacts = { paymentId: 'pay_4', charges: [captured(300n)], ledger: noLedger() };
    expect(classifyPayment(facts)).toEqual({
      paymentId: 'pay_4',
      verdict: 'missing',
      status: 'absent',
      final: false,
      reasons: ['no payment row, known to the provider'],
    });
  });

  it('calls a capture at the provider that the ledger never booked missing', () => {
    const facts = agreed();
    facts.ledger = noLedger();
    expect(classifyPayment(facts)).toMatchObject({
      verdict: 'missing',
      reasons: ['captured at the provider, not in the ledger', 'captured by us, not in the ledger'],
    });
  });

  it('calls differing amounts a mismatch, with every difference named', () => {
    const facts = agreed();
    facts.charges = [captured(1_000n, 0n)];
    facts.ledger = { ...facts.ledger, refunded: 200n };
    expect(classifyPayment(facts)).toMatchObject({
      verdict: 'mismatch',
      reasons: ['refunded 250 here, 200 in the ledger', 'refunded 250 here, 0 at the provider'],
    });
  });

  it('calls a failed card payment whose authorization stayed open a mismatch', () => {
    const facts: PaymentFacts = {
      paymentId: 'pay_5',
      ours: { status: 'failed', source: 'card', amount: 900n, captured: 0n, refunded: 0n, refunds: [] },
      charges: [{ provider: 'stripe', status: 'authorized', amount: 900n, captured: 0n, refunded: 0n }],
      ledger: noLedger(),
    };
    expect(classifyPayment(facts)).toMatchObject({
      verdict: 'mismatch',
      reasons: ['failed here, authorized at the provider'],
    });
  });

  it('calls a canceled wallet payment with its hold still active a mismatch', () => {
    const facts: PaymentFacts = {
      paymentId: 'pay_6',
      ours: { status: 'canceled', source: 'wallet', amount: 500n, captured: 0n, refunded: 0n, refunds: [] },
      charges: [],
      ledger: noLedger(),
      hold: { status: 'active', amount: 500n, captured: null },
    };
    expect(classifyPayment(facts)).toMatchObject({ verdict: 'mismatch', reasons: ['canceled with its hold active'] });
  });

  it('calls what the client was told and we no longer show a mismatch', () => {
    const facts = agreed();
    facts.client = { idempotencyKey: 'k1', paymentIds: ['pay_1'], captured: 1_000n, refunded: 600n };
    expect(classifyPayment(facts)).toMatchObject({
      verdict: 'mismatch',
      reasons: ['client told 600 refunded, 250 here'],
    });
  });

  it('ranks duplicate over missing over mismatch', () => {
    const facts = agreed();
    facts.charges = [captured(1_000n), captured(1_000n)];
    facts.ledger = noLedger();
    expect(classifyPayment(facts).verdict).toBe('duplicate');
  });

  it('is not final while processing or with a refund pending; requires_attention is', () => {
    const processing = agreed();
    processing.ours = { ...(processing.ours as NonNullable<PaymentFacts['ours']>), status: 'processing' };
    expect(classifyPayment(processing).final).toBe(false);
    const pending = agreed();
    pending.ours = {
      ...(pending.ours as NonNullable<PaymentFacts['ours']>),
      refunds: [{ id: 're_2', status: 'pending', amount: 10n }],
    };
    expect(classifyPayment(pending).final).toBe(false);
    const attention: PaymentFacts = {
      paymentId: 'pay_7',
      ours: { status: 'requires_attention', source: 'card', amount: 100n, captured: 0n, refunded: 0n, refunds: [] },
      charges: [{ provider: 'stripe', status: 'authorized', amount: 100n, captured: 0n, refunded: 0n }],
      ledger: noLedger(),
    };
    expect(classifyPayment(attention)).toMatchObject({ verdict: 'match', final: true });
  });
});

describe('judgeScenario', () => {
  it('passes only when every payment matches and is final and the books are clean and sum to zero', () => {
    const clean = judgeScenario('unit', [agreed()], { discrepancies: [], entriesSum: 0n });
    expect(clean).toMatchObject({ counts: { match: 1, mismatch: 0, missing: 0, duplicate: 0 }, failures: [] });
    expect(clean.statuses).toEqual({ succeeded: 1 });
    expect(verdictTable(clean)).toContain('result     PASS');

    const lost: PaymentFacts = { paymentId: 'pay_8', charges: [captured(100n)], ledger: noLedger() };
    const broken = judgeScenario('unit', [agreed(), lost], {
      discrepancies: ['{"kind":"currency_unbalanced"}'],
      entriesSum: 5n,
    });
    expect(broken.failures).toEqual([
      '1 payment(s) not matched',
      '1 payment(s) not final',
      'ledger integrity: 1 discrepancies',
      'ledger entries sum to 5, not 0',
    ]);
    const table = verdictTable(broken);
    expect(table).toContain('missing    pay_8 absent (not final): no payment row, known to the provider');
    expect(table).toContain('result     FAIL');
  });
});
