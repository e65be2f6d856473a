import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkPayoutAmount } from '../../src/domain/payout-amount.ts';
import {
  canMovePayout,
  isFinalPayout,
  payoutPredecessors,
  payoutStatuses,
  type PayoutStatus,
} from '../../src/domain/payout-state.ts';
import {
  defaultPayoutTiming,
  effectivePayoutSettings,
  payoutHoldExpiryMs,
  scheduleRunsOn,
} from '../../src/domain/payout-settings.ts';
import { forwardRecoveryWindowMs } from '../../src/domain/hold-expiry.ts';
import { payoutInTransitRecipe, payoutPaidRecipe, payoutReversalRecipe } from '../../src/ledger/payout-recipes.ts';
import { merchantAccountId, systemAccountId } from '../../src/ledger/ledger.ts';
import { Payout, presentPayout } from '../../src/payouts/public-payout.ts';
import type { PayoutView } from '../../src/domain/payout-view.ts';

// The money rules of payouts: a payout takes what was asked (or all that is available), never
// less than the merchant's minimum nor more than is available; its ledger steps move exactly its
// amount between the accounts of its flow, so whatever path it takes, the merchant's available
// balance ends where the bank's answer says.

const currency = fc.constantFrom('USD', 'EUR', 'JPY', 'KWD');
const minor = fc.bigInt({ min: 0n, max: 10_000_000n });

describe('a payout amount', () => {
  it('is accepted exactly when it lies between the minimum and the available balance', () => {
    fc.assert(
      fc.property(
        currency,
        minor,
        fc.bigInt({ min: 1n, max: 10_000_000n }),
        fc.option(minor, { nil: undefined }),
        (code, available, minimum, requested) => {
          const check = checkPayoutAmount(requested, { currency: code, available, minimum });
          const amount = requested ?? available;
          if (check.ok) {
            expect(check.value).toBe(amount);
            expect(check.value >= minimum && check.value <= available && check.value > 0n).toBe(true);
          } else if (amount < minimum || amount === 0n) {
            expect(check).toMatchObject({ code: 'amount_too_small', param: 'amount' });
          } else {
            expect(amount > available).toBe(true);
            expect(check).toMatchObject({ code: 'insufficient_funds', param: 'amount' });
          }
        },
      ),
    );
  });

  it('takes the whole available balance when no amount is asked for', () => {
    expect(checkPayoutAmount(undefined, { currency: 'USD', available: 9_680n, minimum: 100n })).toEqual({
      ok: true,
      value: 9_680n,
    });
    expect(checkPayoutAmount(undefined, { currency: 'USD', available: 99n, minimum: 100n })).toMatchObject({
      ok: false,
      code: 'amount_too_small',
    });
  });
});

describe('the payout state machine', () => {
  it('moves forward only, and ends in paid or failed', () => {
    expect(canMovePayout('pending', 'in_transit')).toBe(true);
    expect(canMovePayout('pending', 'failed')).toBe(true);
    expect(canMovePayout('in_transit', 'paid')).toBe(true);
    expect(canMovePayout('in_transit', 'failed')).toBe(true);
    expect(canMovePayout('pending', 'paid')).toBe(false);
    for (const from of ['paid', 'failed'] as PayoutStatus[]) {
      expect(isFinalPayout(from)).toBe(true);
      for (const to of payoutStatuses) expect(canMovePayout(from, to)).toBe(false);
    }
    expect(payoutPredecessors('failed')).toEqual(['pending', 'in_transit']);
    expect(payoutPredecessors('paid')).toEqual(['in_transit']);
  });
});

describe('payout settings', () => {
  it('fall back to the defaults, and a weekly schedule pays on Mondays (UTC)', () => {
    const defaults = { schedule: 'daily' as const, minimumMinor: 100n };
    expect(effectivePayoutSettings({ schedule: null, minimumMinor: null }, defaults)).toEqual(defaults);
    expect(effectivePayoutSettings({ schedule: 'weekly', minimumMinor: 5_000n }, defaults)).toEqual({
      schedule: 'weekly',
      minimumMinor: 5_000n,
    });
    expect(scheduleRunsOn('daily', '2026-12-06')).toBe(true);
    expect(scheduleRunsOn('manual', '2026-12-07')).toBe(false);
    expect(scheduleRunsOn('weekly', '2026-12-07')).toBe(true);
    expect(scheduleRunsOn('weekly', '2026-12-06')).toBe(false);
  });

  it('keep a hold past every step that may still capture it', () => {
    expect(payoutHoldExpiryMs(defaultPayoutTiming)).toBe(
      defaultPayoutTiming.submitTimeoutMs + defaultPayoutTiming.lookupTimeoutMs + forwardRecoveryWindowMs,
    );
  });
});

describe('payout recipes', () => {
  const account = {
    available: (merchant: string, code: string) => merchantAccountId('merchant_available', merchant, code),
    inTransit: (code: string) => systemAccountId('payouts_in_transit', code),
    paidOut: (code: string) => systemAccountId('external_payouts', code),
  };

  it('move exactly the amount, balanced, and leave the merchant where the bank answered', () => {
    fc.assert(
      fc.property(currency, fc.bigInt({ min: 1n, max: 10_000_000n }), fc.boolean(), (code, amount, paid) => {
        const party = { payoutId: 'pyo_1', merchantId: 'mer_1', currency: code, amount };
        const steps = [payoutInTransitRecipe(party), paid ? payoutPaidRecipe(party) : payoutReversalRecipe(party)];
        const net = new Map<string, bigint>();
        for (const { posting } of steps) {
          expect(posting.entries.reduce((sum, entry) => sum + entry.amount, 0n)).toBe(0n);
          expect(posting.reference).toBe('pyo_1');
          for (const entry of posting.entries)
            net.set(entry.accountId, (net.get(entry.accountId) ?? 0n) + entry.amount);
        }
        expect(net.get(account.inTransit(code))).toBe(0n);
        expect(net.get(account.available('mer_1', code))).toBe(paid ? -amount : 0n);
        expect(net.get(account.paidOut(code)) ?? 0n).toBe(paid ? amount : 0n);
        expect(new Set(steps.map((step) => step.posting.idempotencyKey)).size).toBe(2);
      }),
    );
  });
});

describe('the public payout', () => {
  it('shows exactly its public fields: no merchant, provider or provider payout id', () => {
    const view: PayoutView = {
      id: 'pyo_1',
      merchantId: 'mer_secret',
      amount: 5_000n,
      currency: 'USD',
      status: 'paid',
      automatic: true,
      description: null,
      provider: 'stripe',
      providerPayoutId: 'po_secret',
      failureCode: null,
      failureMessage: null,
      createdAt: '2026-12-06T02:00:00.000Z',
    };
    const shown = presentPayout(view);
    expect(Object.keys(shown).sort()).toEqual(Object.keys(Payout.properties).sort());
    expect(shown).toEqual({
      id: 'pyo_1',
      object: 'payout',
      amount: 5_000,
      currency: 'USD',
      status: 'paid',
      automatic: true,
      description: null,
      failure_code: null,
      failure_message: null,
      created_at: '2026-12-06T02:00:00.000Z',
    });
    expect(JSON.stringify(shown)).not.toMatch(/secret|stripe/);
  });
});
