import type { Db, Prisma } from '../db/prisma.ts';
import { toJsonAmount } from '../domain/money.ts';
import { newId } from '../ids.ts';
import type { PlatformEventType } from './catalog.ts';

// The transactional outbox: an event row is written with the same database transaction
// client as the change it announces, so there is never a change without its event or an
// event without its change. Delivery happens later, from these rows (src/events/relay.ts).

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

/** The outbox row of an event: a fresh id, and data as JSON (bigint amounts as integers). */
export function outboxRow(event: OutboundEvent) {
  return {
    id: newId('evt'),
    merchantId: event.merchantId,
    type: event.type,
    resourceId: event.resourceId,
    data: jsonSafe(event.data) as Prisma.InputJsonValue,
    sourceKey: event.sourceKey,
  };
}

export async function appendEvent(db: Db, event: OutboundEvent): Promise<void> {
  await db.event.createMany({ data: [outboxRow(event)], skipDuplicates: true });
}

/** An event of the platform's own (reconciliation.*): no merchant, so no webhook; the event stream carries it. */
export interface PlatformEvent {
  type: PlatformEventType;
  resourceId: string;
  data: object;
  sourceKey: string;
}

export async function appendPlatformEvents(db: Db, events: readonly PlatformEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.event.createMany({
    data: events.map((event) => ({
      id: newId('evt'),
      merchantId: null,
      type: event.type,
      resourceId: event.resourceId,
      data: jsonSafe(event.data) as Prisma.InputJsonValue,
      sourceKey: event.sourceKey,
    })),
    skipDuplicates: true,
  });
}
