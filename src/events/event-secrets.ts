import type { ColumnCipher, SealedColumn } from '../crypto/column-cipher.ts';
import { isSealed } from '../crypto/column-cipher.ts';
import { inJsonbOrder } from '../db/jsonb-order.ts';

// An outbox event's data is the public shape of its resource, so it repeats what the resource's
// table keeps encrypted: a payment's customer, description and metadata, an account's notes, a
// recorded payment's customer reference and metadata (and a transfer's or payout's description).
// These top-level fields are kept encrypted inside events.data, in place: the rest of the shape
// stays plain jsonb (the relay, SQL and the figures read ids and types without a key), every key
// keeps its place, and a read decrypts at most these four values. Strings are sealed as they are,
// metadata as its JSON text. Events written before this (plaintext) read as they are until
// `keys:rotate` seals them. The import's events are sealed by PostgreSQL the same way
// (record_staged_batch, src/crypto/sql-seal.ts).

export const sealedEventFields = ['customer', 'customer_reference', 'description', 'metadata'] as const;
type SealedEventField = (typeof sealedEventFields)[number];

const contextOf = (field: SealedEventField): SealedColumn => `events.data.${field}`;

/** `data` as events.data keeps it: the sensitive fields present and not null, encrypted. */
export function sealEventData(cipher: ColumnCipher, data: unknown): unknown {
  if (!isRecord(data)) return data;
  return mapSealedFields(data, (field, value) => {
    if (field === 'metadata') return cipher.sealJson(contextOf(field), value);
    if (typeof value !== 'string') throw new Error(`event field ${field} is not text`);
    return cipher.seal(contextOf(field), value);
  });
}

/** events.data readable again: what the resource's public shape was, key order included. */
export function openEventData(cipher: ColumnCipher, data: unknown): unknown {
  if (!isRecord(data)) return data;
  return mapSealedFields(data, (field, value) => {
    if (typeof value !== 'string' || !isSealed(value)) return value;
    // jsonb kept a plaintext metadata's keys in its own order: so does the event read now.
    return field === 'metadata'
      ? inJsonbOrder(cipher.openJson(contextOf(field), value))
      : cipher.open(contextOf(field), value);
  });
}

/** An event row (anything with `data`) with its data readable again. */
export function openEvent<T extends { data: unknown }>(cipher: ColumnCipher, event: T): T {
  return { ...event, data: openEventData(cipher, event.data) };
}

function mapSealedFields(
  data: Record<string, unknown>,
  change: (field: SealedEventField, value: unknown) => unknown,
): Record<string, unknown> {
  const fields: readonly string[] = sealedEventFields;
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) =>
      fields.includes(key) && value !== null && value !== undefined
        ? [key, change(key as SealedEventField, value)]
        : [key, value],
    ),
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
