import type { Db, Prisma } from '../db/prisma.ts';
import { toJsonAmount } from '../domain/money.ts';
import { newId } from '../ids.ts';
import type { PlatformEventType } from './catalog.ts';
import type { ColumnCipher } from '../crypto/column-cipher.ts';
import { sealEventData } from './event-secrets.ts';

// The transactional outbox: an event row is written with the same database transaction
// client as the change it announces, so there is never a change without its event or an
// event without its change. Delivery happens later, from these rows (src/events/relay.ts).
// The data's sensitive fields are stored encrypted (src/events/event-secrets.ts).

export interface OutboundEvent {
  merchantId: string;
  /** e.g. payment.succeeded, refund.succeeded, transfer.failed, deposit.succeeded. */
  type: string;
  resourceId: string;
  /** The resource exactly as GET on it shows it (its public projection, e.g. presentPayment). */
  data: object;
  /** Unique per change (e.g. "payment:pay_…:7"): a retried transaction writes no second event. */
  sourceKey: string;
}

export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return toJsonAmount(value);
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, jsonSafe(item)]));
  }
  return value;
}

/** An event's data as events.data keeps it: JSON (bigint amounts as integers), sensitive fields sealed. */
export function storedEventData(cipher: ColumnCipher, data: object): Prisma.InputJsonValue {
  return sealEventData(cipher, jsonSafe(data)) as Prisma.InputJsonValue;
}

/** The outbox row of an event: a fresh id, and its data as stored. */
export function outboxRow(cipher: ColumnCipher, event: OutboundEvent) {
  return {
    id: newId('evt'),
    merchantId: event.merchantId,
    type: event.type,
    resourceId: event.resourceId,
    data: storedEventData(cipher, event.data),
    sourceKey: event.sourceKey,
  };
}

export async function appendEvent(db: Db, cipher: ColumnCipher, event: OutboundEvent): Promise<void> {
  await db.event.createMany({ data: [outboxRow(cipher, event)], skipDuplicates: true });
}

/** An event of the platform's own (reconciliation.*): no merchant, so no webhook; the event stream carries it. */
export interface PlatformEvent {
  type: PlatformEventType;
  resourceId: string;
  data: object;
  sourceKey: string;
}

export async function appendPlatformEvents(
  db: Db,
  cipher: ColumnCipher,
  events: readonly PlatformEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await db.event.createMany({
    data: events.map((event) => ({
      id: newId('evt'),
      merchantId: null,
      type: event.type,
      resourceId: event.resourceId,
      data: storedEventData(cipher, event.data),
      sourceKey: event.sourceKey,
    })),
    skipDuplicates: true,
  });
}
