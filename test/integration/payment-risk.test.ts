import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { card, paymentsClient } from '../support/payments.ts';
import { loadConfig } from '../../src/config.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('risk', {
    rateLimitPerSecond: 10_000,
    riskMaxPaymentsPerWindow: 2,
    riskVelocityWindowMs: 60_000,
    riskBlockedCustomers: ['cus_blocked'],
    riskBlockAboveMinor: { USD: 1_000_000n },
  });
});
afterAll(async () => stack?.close());

describe('payment risk rules', () => {
  it('blocks the payment past the per-customer velocity limit, counted in PostgreSQL', async () => {
    const api = paymentsClient(stack, await stack.merchant());
    const customer = `cus_${randomUUID()}`;
    // From a wallet, so only the customer's count matters.
    const wallet = await api.openAccount();
    await api.deposit(wallet, 10_000);
    const pay = () =>
      api.create({ amount: 500, currency: 'USD', source: { type: 'wallet', account_id: wallet }, customer });
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await pay()).json().status);
    expect(statuses).toEqual(['succeeded', 'succeeded', 'failed']);
    const blocked = await pay();
    expect(blocked.json()).toMatchObject({ status: 'failed', failure_code: 'payment_blocked' });
    expect(blocked.json().failure_message).toBe('The payment was blocked by risk rules.');
    // The rule is told in the payment's timeline, not in the sentence a customer may see.
    expect((await api.timeline(blocked.json().id)).at(-1)).toEqual({
      type: 'payment.failed',
      created_at: expect.any(String),
      data: { code: 'payment_blocked', rule: 'velocity' },
    });
  });

  it("counts velocity per merchant: one merchant's payments never block another's customer", async () => {
    const customer = `cus_${randomUUID()}`;
    const payFrom = async (api: ReturnType<typeof paymentsClient>) => {
      const wallet = await api.openAccount();
      await api.deposit(wallet, 10_000);
      return (
        await api.create({ amount: 500, currency: 'USD', source: { type: 'wallet', account_id: wallet }, customer })
      ).json();
    };
    const first = paymentsClient(stack, await stack.merchant());
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await payFrom(first)).status);
    expect(statuses).toEqual(['succeeded', 'succeeded', 'failed']);
    // The same customer id at another merchant starts from zero.
    const second = paymentsClient(stack, await stack.merchant());
    expect(await payFrom(second)).toMatchObject({ status: 'succeeded', failure_code: null });
  });

  it('blocks listed customers and amounts over the per-currency ceiling, before any charge', async () => {
    const api = paymentsClient(stack, await stack.merchant());
    const before = await api.simStats();
    const listed = await api.create({
      amount: 500,
      currency: 'USD',
      source: { type: 'wallet', account_id: await api.openAccount() },
      customer: 'cus_blocked',
    });
    expect(listed.json()).toMatchObject({ status: 'failed', failure_code: 'payment_blocked' });
    expect(listed.json().failure_message).toBe('The payment was blocked by risk rules.');
    // The rule is told in the payment's timeline, not in the sentence a customer may see.
    expect((await api.timeline(listed.json().id)).at(-1)).toEqual({
      type: 'payment.failed',
      created_at: expect.any(String),
      data: { code: 'payment_blocked', rule: 'block_list' },
    });
    // A wallet: card velocity stays out of it.
    const wallet = await api.openAccount();
    const large = await api.create({
      amount: 1_000_000,
      currency: 'USD',
      source: { type: 'wallet', account_id: wallet },
    });
    expect(large.json()).toMatchObject({ status: 'failed', failure_code: 'payment_blocked' });
    expect(large.json().failure_message).toBe('The payment was blocked by risk rules.');
    // The rule is told in the payment's timeline, not in the sentence a customer may see.
    expect((await api.timeline(large.json().id)).at(-1)).toEqual({
      type: 'payment.failed',
      created_at: expect.any(String),
      data: { code: 'payment_blocked', rule: 'amount_block' },
    });
    const after = await api.simStats();
    expect(after.stripe.requests + after.paypal.requests).toBe(before.stripe.requests + before.paypal.requests);
  });
});

describe('the default risk rules', () => {
  let defaults: Stack;
  beforeAll(async () => {
    // The rules as shipped: no override of the velocity limit.
    defaults = await startStack('risk-defaults', { riskMaxPaymentsPerWindow: loadConfig().riskMaxPaymentsPerWindow });
  });
  afterAll(async () => defaults?.close());

  it("let one merchant run a demo with test cards past the velocity limit: a test token is no one's card", async () => {
    const limit = defaults.config.riskMaxPaymentsPerWindow;
    expect(limit).toBe(20);
    const api = paymentsClient(defaults, await defaults.merchant());
    const statuses: string[] = [];
    for (let i = 0; i < limit + 5; i++) {
      const response = await api.create({ amount: 1_000 + i, currency: 'USD', source: card('tok_visa') });
      statuses.push(response.json().status);
    }
    expect(statuses).toEqual(Array.from({ length: limit + 5 }, () => 'succeeded'));
    // The per-customer rule still counts test payments.
    const customer = `cus_${randomUUID()}`;
    const byCustomer: string[] = [];
    for (let i = 0; i <= limit; i++) {
      const response = await api.create({ amount: 700, currency: 'USD', source: card('tok_visa'), customer });
      byCustomer.push(response.json().failure_code ?? response.json().status);
    }
    expect(byCustomer.at(-1)).toBe('payment_blocked');
    expect(byCustomer.slice(0, limit)).toEqual(Array.from({ length: limit }, () => 'succeeded'));
  });
});
