import { Type, type Static } from 'typebox';
import { listOf, listQuery } from '../list-pages.ts';

export const Event = Type.Object({
  id: Type.String(),
  object: Type.Literal('event'),
  type: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  data: Type.Object({ object: Type.Record(Type.String(), Type.Unknown()) }),
});

export const EventList = listOf(Event);

export const EventListQuery = listQuery({
  type: Type.Optional(
    Type.String({
      maxLength: 100,
      pattern: '^[a-z0-9_.]+(\\.\\*)?$',
      description: 'An event type, or a prefix ending in ".*" (e.g. payment.*)',
    }),
  ),
});

export const DeliveryAttempt = Type.Object({
  attempt: Type.Integer(),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  duration_ms: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
});

export const Delivery = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_delivery'),
  event_id: Type.String(),
  event_type: Type.String(),
  endpoint_id: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  generation: Type.Integer(),
  attempt_count: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  attempts: Type.Array(DeliveryAttempt),
});

export const DeliveryList = listOf(Delivery);

const RedeliverySkipReason = Type.Union([
  Type.Literal('delivery_in_progress'),
  Type.Literal('endpoint_disabled'),
  Type.Literal('endpoint_deleted'),
]);
export type RedeliverySkipReason = Static<typeof RedeliverySkipReason>;

/**
 * POST /v1/events/:id/redeliver: the deliveries it started, one per endpoint the event went to
 * whose last delivery has finished (failed or delivered), and the endpoints it left out, with why.
 */
export const RedeliveryList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(Delivery),
  skipped: Type.Array(
    Type.Object({
      endpoint_id: Type.String(),
      reason: RedeliverySkipReason,
    }),
  ),
});
