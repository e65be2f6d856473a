import { describe, expect, it } from 'vitest';
import {
  created,
  expectedOutcome,
  planStep,
  shown,
  type PaymentModel,
  type SimulationRules,
} from '../support/simulation-model.ts';
import type { PaymentHistory, Step } from '../support/simulation-schedule.ts';

// The payment simulation's model (test/support/simulation-model.ts) on histories worked out by
// hand: what it predicts must be what the README says a payment does, or the simulation would
// check the stack against the wrong thing.

const rules: SimulationRules = {
  reviewAboveMinor: 80_000n,
  blockAboveMinor: 150_000n,
  blockedTokens: ['tok_riskHigh'],
  fee: { percentBasisPoints: 290, fixedMinor: 30n },
  firstProvider: { USD: 'stripe', EUR: 'paypal', GBP: 'stripe', JPY: 'stripe' },
  lookups: 3,
};

const history = (fields: Partial<PaymentHistory>): PaymentHistory => ({
  amount: 10_000,
  currency: 'USD',
  captureMethod: 'automatic',
  token: 'tok_visa',
  faults: [],
  timers: 'long',
  steps: [],
  ...fields,
});

/** Plans and applies each step as the runner does, syncing when asked to. */
function play(of: PaymentHistory, steps: Step[]): PaymentModel {
  let { model } = created(of, rules);
  for (const step of steps) {
    let planned = planStep(model, step, of, rules);
    if (planned.kind === 'sync_first') {
      model = shown(model);
      planned = planStep(model, step, of, rules);
    }
    if (planned.kind === 'api' || planned.kind === 'provider' || planned.kind === 'sync') model = planned.next;
  }
  return shown(model);
}

describe('simulation model', () => {
  it('books the README example: 100.00 USD captured, 40.00 refunded after settlement', () => {
    const of = history({});
    const model = play(of, [{ kind: 'refund', amount: { kind: 'part', permille: 400 } }]);
    expect(expectedOutcome(model, rules)).toMatchObject({
      payment: { status: 'succeeded', amount_captured: 10_000, amount_refunded: 4_000, fee: 320, net_amount: 9_680 },
      charge: { provider: 'stripe', status: 'captured', amount_captured: 10_000, amount_refunded: 4_000 },
      // 128 of the 320 fee comes back; the merchant pays 3,872 and keeps 5,808.
      ledger: { clearing: -6_000n, fees: 192n, pending: 0n, available: 5_808n, disputes: 0n },
      transactions: { payment_capture: [1, 1], refund: [1, 1], dispute: [0, 0], settlement: [1, 1] },
    });
  });

  it('blocks, reviews and declines before anything is captured', () => {
    expect(created(history({ token: 'tok_riskHigh' }), rules)).toMatchObject({
      model: { status: 'failed', failureCode: 'payment_blocked', charge: 'none' },
      authorizes: false,
    });
    expect(created(history({ amount: 150_000 }), rules).model).toMatchObject({ status: 'failed' });
    expect(created(history({ amount: 80_000 }), rules)).toMatchObject({
      model: { status: 'requires_review' },
      authorizes: false,
    });
    expect(created(history({ token: 'tok_insufficientFunds' }), rules).model).toMatchObject({
      status: 'failed',
      failureCode: 'insufficient_funds',
      charge: 'declined',
    });
  });

  it('answers what the workflow refuses with its codes, and moves nothing', () => {
    const manual = history({ captureMethod: 'manual' });
    const { model } = created(manual, rules);
    expect(planStep(model, { kind: 'refund', amount: { kind: 'all' } }, manual, rules)).toMatchObject({
      kind: 'api',
      answers: [{ status: 409, code: 'payment_unexpected_state' }],
      next: model,
    });
    expect(planStep(model, { kind: 'capture', amount: { kind: 'over', extra: 1 } }, manual, rules)).toMatchObject({
      kind: 'api',
      amount: 10_001n,
      answers: [{ status: 400, code: 'amount_too_large' }],
    });
  });

  it('finds a capture whose request never arrived not made, when no lookup could tell', () => {
    const manual = history({ captureMethod: 'manual' });
    const lost = { processed: false, attention: true };
    const model = play(manual, [{ kind: 'capture', amount: { kind: 'all' }, lost }]);
    expect(model).toMatchObject({ status: 'requires_capture', charge: 'authorized', captured: 0n });
    // An attempt failed after it ran sends the capture again: the provider's answer comes back.
    const retried = history({
      captureMethod: 'manual',
      faults: [{ activity: 'tryCaptureCard', attempts: 1, when: 'after' }],
    });
    expect(play(retried, [{ kind: 'capture', amount: { kind: 'all' }, lost }])).toMatchObject({ status: 'succeeded' });
  });

  it('keeps the provider money and disputes within the net, and waits for money not shown yet', () => {
    const of = history({});
    let { model } = created(of, rules);
    const refund = planStep(model, { kind: 'provider_refund', permille: 1_000 }, of, rules);
    expect(refund).toMatchObject({ kind: 'provider', amount: 10_000n });
    if (refund.kind === 'provider') model = refund.next;
    // All of it is refunded at the provider, not shown yet: whether 409 or 400 depends on it.
    expect(planStep(model, { kind: 'refund', amount: { kind: 'over', extra: 1 } }, of, rules)).toEqual({
      kind: 'sync_first',
    });
    expect(planStep(model, { kind: 'dispute', permille: 500 }, of, rules)).toMatchObject({ kind: 'skip' });
    const disputed = play(of, [{ kind: 'dispute', permille: 1_000 }]);
    // 10,000 − 320 fee: the dispute takes at most the net.
    expect(expectedOutcome(disputed, rules).ledger).toMatchObject({ disputes: 9_680n, available: 0n });
  });
});
