import { describe, expect, it } from 'vitest';
import { maxMetadataKeys, mergeMetadata } from '../../src/domain/metadata-limits.ts';

// Metadata updates merge as Stripe's do: "" removes a key, null removes all, 50 keys at most.

const keys = (count: number, prefix: string) =>
  Object.fromEntries(Array.from({ length: count }, (_, index) => [`${prefix}${index}`, 'v']));

describe('mergeMetadata', () => {
  it('sets, replaces and removes keys', () => {
    expect(mergeMetadata({ a: '1', b: '2' }, { b: '3', c: '4', a: '' })).toEqual({
      ok: true,
      metadata: { b: '3', c: '4' },
    });
    expect(mergeMetadata(null, { a: '1' })).toEqual({ ok: true, metadata: { a: '1' } });
  });

  it('leaves null when no key is left, or when asked to clear', () => {
    expect(mergeMetadata({ a: '1' }, { a: '' })).toEqual({ ok: true, metadata: null });
    expect(mergeMetadata({ a: '1' }, null)).toEqual({ ok: true, metadata: null });
  });

  it('counts the keys after the merge against the limit', () => {
    expect(mergeMetadata(keys(maxMetadataKeys, 'a'), { a0: '', b0: 'v' })).toMatchObject({ ok: true });
    expect(mergeMetadata(keys(maxMetadataKeys, 'a'), { b0: 'v' })).toEqual({
      ok: false,
      message: 'Metadata can have at most 50 keys; this update leaves 51.',
    });
  });
});
