import { describe, expect, it } from 'vitest';
import { Keyring } from '../../src/crypto/keyring.ts';
import { ColumnCipher, isSealed } from '../../src/crypto/column-cipher.ts';
import { openEventData, sealEventData } from '../../src/events/event-secrets.ts';
import { inJsonbOrder } from '../../src/db/jsonb-order.ts';

const cipher = new ColumnCipher(Keyring.parse(Keyring.generateEntry('k1')));

describe('jsonb key order', () => {
  it('sorts keys as PostgreSQL jsonb does: by UTF-8 length, then bytewise, all the way down', () => {
    // The order below is what PostgreSQL 18 returned for SELECT $1::jsonb of this object.
    const value = { zeta: 1, b: 2, aa: 3, '10': 4, '9': 5, é: 6, f: 7, ab: [{ y: 1, x: 2 }], Z: 8, ä1: 9, abc: 10 };
    expect(JSON.stringify(inJsonbOrder(value))).toBe(
      '{"9":5,"10":4,"Z":8,"b":2,"f":7,"aa":3,"ab":[{"x":2,"y":1}],"é":6,"abc":10,"ä1":9,"zeta":1}',
    );
    expect(inJsonbOrder(null)).toBeNull();
    expect(inJsonbOrder('text')).toBe('text');
  });
});

describe('event data at rest', () => {
  const payment = {
    id: 'pay_1',
    object: 'payment',
    amount: 1000,
    customer: 'cus_1',
    description: 'order 7',
    metadata: { order_id: 'ord_7', cart: 'c-1' },
    refunds: [],
  };

  it('seals the sensitive fields in place and reads back the shape, in jsonb key order', () => {
    const stored = sealEventData(cipher, payment) as Record<string, unknown>;
    expect(Object.keys(stored)).toEqual(Object.keys(payment));
    for (const field of ['customer', 'description', 'metadata']) expect(isSealed(stored[field] as string)).toBe(true);
    expect(JSON.stringify(stored).includes('ord_7')).toBe(false);
    const opened = openEventData(cipher, stored);
    expect(opened).toEqual(payment);
    expect(JSON.stringify(opened)).toBe(JSON.stringify({ ...payment, metadata: { cart: 'c-1', order_id: 'ord_7' } }));
  });

  it('leaves nulls, other fields and shapes without them as they are', () => {
    const record = { id: 'rec_1', customer_reference: null, metadata: null, channel: 'agents' };
    expect(sealEventData(cipher, record)).toEqual(record);
    expect(sealEventData(cipher, { id: 'ak_1', name: 'ci' })).toEqual({ id: 'ak_1', name: 'ci' });
  });

  it('reads events written before encryption as they are', () => {
    expect(openEventData(cipher, payment)).toEqual(payment);
  });

  it('refuses a sealed field read under another field', () => {
    const stored = sealEventData(cipher, { customer: 'cus_1' }) as Record<string, unknown>;
    expect(() => openEventData(cipher, { description: stored.customer })).toThrow();
  });
});
