// The one public shape of an outbound event, used by GET /v1/events and by webhook bodies, so
// what a merchant receives is exactly what the API shows for the same id.

export interface EventRecord {
  id: string;
  type: string;
  data: unknown;
  createdAt: Date;
}

export interface PublicEvent {
  id: string;
  object: 'event';
  type: string;
  created_at: string;
  data: { object: Record<string, unknown> };
}

export function presentEvent(event: EventRecord): PublicEvent {
  return {
    id: event.id,
    object: 'event',
    type: event.type,
    created_at: event.createdAt.toISOString(),
    data: { object: (event.data ?? {}) as Record<string, unknown> },
  };
}
