import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventTypes, isEventTypeFilter, platformEventTypes } from '../../src/events/catalog.ts';
import { announcement } from '../../src/payments/read-model.ts';
import { openingView } from '../../src/domain/payment-view.ts';
import { defaultFeeSchedule } from '../../src/domain/fees.ts';

// Merchants hear only of the transitions in the catalog (src/events/catalog.ts): internal ones,
// such as an orphan authorization that could not be released, stay with operators.

const view = openingView({
  paymentId: 'pay_1',
  merchantId: 'mer_1',
  amount: 1_000n,
  currency: 'USD',
  captureMethod: 'automatic',
  source: { type: 'card', token: 'tok_visa' },
  customer: null,
  description: null,
  metadata: null,
  cardFingerprint: null,
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
});

describe('event catalog', () => {
  it('announces catalogued payment transitions, keyed by payment and version', () => {
    expect(announcement(view, { version: 2, type: 'payment.succeeded', data: {} })).toMatchObject({
      type: 'payment.succeeded',
      resourceId: 'pay_1',
      sourceKey: 'payment:pay_1:2',
    });
  });

  it('never announces internal transitions, whatever their name', () => {
    for (const type of ['payment.orphan_release_failed', 'orphan_release_failed', 'payment.anything_new']) {
      expect(announcement(view, { version: 3, type, data: { providers: ['stripe'] } })).toBeUndefined();
    }
  });
});

describe('the published catalog', () => {
  it('README lists exactly the catalog, in its order', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    // The paragraph that starts "The event types (`src/events/catalog.ts`" and ends at a blank line.
    const start = readme.indexOf('The event types (`src/events/catalog.ts`');
    expect(start).toBeGreaterThan(-1);
    const paragraph = readme.slice(start, readme.indexOf('\n\n', start));
    const listed = [...paragraph.slice(paragraph.indexOf(':')).matchAll(/`([a-z_.]+)`/g)].map((match) => match[1]);
    expect(listed).toEqual([...eventTypes]);
  });

  it("README lists the platform's own event types, which no merchant endpoint can subscribe to", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf("The platform's own event types (`platformEventTypes`");
    expect(start).toBeGreaterThan(-1);
    const paragraph = readme.slice(start, readme.indexOf('\n\n', start));
    const listed = [...paragraph.slice(paragraph.indexOf('):')).matchAll(/`([a-z_.]+)`/g)].map((match) => match[1]);
    expect(listed).toEqual([...platformEventTypes]);
    for (const type of platformEventTypes) {
      expect((eventTypes as readonly string[]).includes(type)).toBe(false);
      expect(isEventTypeFilter(type)).toBe(false);
    }
  });
});

describe('event type filters', () => {
  it('take a catalog type or a family of them, and nothing that can never match', () => {
    expect(isEventTypeFilter('payment.succeeded')).toBe(true);
    expect(isEventTypeFilter('payment.*')).toBe(true);
    expect(isEventTypeFilter('webhook_endpoint.*')).toBe(true);
    expect(isEventTypeFilter('payment.succeded')).toBe(false);
    expect(isEventTypeFilter('pay.*')).toBe(false);
    expect(isEventTypeFilter('payout.*')).toBe(true);
    expect(isEventTypeFilter('invoice.*')).toBe(false);
  });
});
