import { expect } from 'vitest';
import { bearer, type Stack } from './stack.ts';

/** Helpers that drive the payments API of one stack as one merchant. */
export function paymentsClient(stack: Stack, merchant: { id: string; apiKey: string }) {
  let keys = 0;
  const nextKey = () => `${merchant.id}-${++keys}`;
  const auth = bearer(merchant.apiKey);

  const create = (payload: object, key = nextKey()) =>
    stack.app.inject({ method: 'POST', url: '/v1/payments', headers: { ...auth, 'idempotency-key': key }, payload });

  const act = (id: string, action: string, payload: object = {}, headers: Record<string, string> = {}) =>
    stack.app.inject({
      method: 'POST',
      url: `/v1/payments/${id}/${action}`,
      headers: { ...auth, ...headers },
      payload,
    });

  const get = async (id: string) => {
    const response = await stack.app.inject({ method: 'GET', url: `/v1/payments/${id}`, headers: auth });
    expect(response.statusCode).toBe(200);
    return response.json();
  };

  /** The payment's timeline, GET /v1/payments/:id/events. */
  const timeline = async (id: string) => {
    const response = await stack.app.inject({ method: 'GET', url: `/v1/payments/${id}/events`, headers: auth });
    expect(response.statusCode).toBe(200);
    return response.json<{ data: { type: string; created_at: string; data: Record<string, unknown> }[] }>().data;
  };

  /** The types of the payment's timeline, oldest first. */
  const eventTypes = async (id: string) => (await timeline(id)).map((event) => event.type);

  const ledger = async (id: string) => {
    const response = await stack.app.inject({ method: 'GET', url: `/v1/payments/${id}/ledger`, headers: auth });
    return response.json<{ data: { kind: string; entries: { account_id: string; amount: number }[] }[] }>().data;
  };

  const openAccount = async (currency = 'USD') => {
    const response = await stack.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: auth,
      payload: { type: 'customer', currency },
    });
    return response.json<{ id: string }>().id;
  };

  const deposit = async (accountId: string, amount: number) => {
    const response = await stack.app.inject({
      method: 'POST',
      url: `/v1/accounts/${accountId}/deposits`,
      headers: { ...auth, 'idempotency-key': nextKey() },
      payload: { amount, reference: 'funding' },
    });
    expect(response.statusCode).toBe(201);
  };

  const account = async (id: string) =>
    (await stack.app.inject({ method: 'GET', url: `/v1/accounts/${id}`, headers: auth })).json<{
      balance: number;
      available: number;
      held: number;
    }>();

  const simStats = async () =>
    (await stack.sim.inject({ method: 'GET', url: '/admin/stats' })).json<
      Record<
        'stripe' | 'paypal',
        { charges: number; captures: number; voids: number; refunds: number; requests: number }
      >
    >();

  return { create, act, get, timeline, eventTypes, ledger, openAccount, deposit, account, simStats, nextKey };
}

export const card = (token = 'tok_visa', provider?: 'stripe' | 'paypal') => ({
  type: 'card',
  token,
  ...(provider ? { provider } : {}),
});
