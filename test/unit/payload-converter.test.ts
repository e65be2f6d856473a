import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { PayloadConverter } from '@temporalio/common';

const require = createRequire(import.meta.url);
const { payloadConverter } = require('../../src/temporal/payload-converter.cjs') as {
  payloadConverter: PayloadConverter;
};

describe('bigint payload converter', () => {
  it('round-trips bigint amounts exactly, nested in objects and arrays', () => {
    const value = { amount: 9007199254740993n, legs: [{ amount: -1n }, { amount: 0n }], note: 'x', n: 1.5 };
    const payload = payloadConverter.toPayload(value);
    expect(new TextDecoder().decode(payload.data)).toContain('{"$bigint":"9007199254740993"}');
    expect(payloadConverter.fromPayload(payload)).toEqual(value);
  });

  it('round-trips any bigint', () => {
    fc.assert(
      fc.property(fc.bigInt(), (amount) => {
        expect(payloadConverter.fromPayload(payloadConverter.toPayload({ amount }))).toEqual({ amount });
      }),
    );
  });

  it('leaves undefined to the undefined converter', () => {
    expect(payloadConverter.fromPayload(payloadConverter.toPayload(undefined))).toBeUndefined();
  });
});
