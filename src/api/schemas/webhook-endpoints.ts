import { Type } from 'typebox';
import { maxEndpointUrlLength, maxEventTypesPerEndpoint, subscribableEventTypes } from '../../webhooks/endpoints.ts';
import { listOf, listQuery } from '../list-pages.ts';

// The catalog (src/events/catalog.ts) as an enum: the OpenAPI docs list every type.
const EventType = Type.Enum(subscribableEventTypes, { description: 'An event type, or "*" for every type' });
const Url = Type.String({
  minLength: 1,
  maxLength: maxEndpointUrlLength,
  description: 'http or https, to a public internet address',
});
const Events = Type.Array(EventType, { minItems: 1, maxItems: maxEventTypesPerEndpoint });

export const CreateWebhookEndpointBody = Type.Object(
  {
    url: Url,
    events: Events,
  },
  { additionalProperties: false },
);

export const UpdateWebhookEndpointBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    /** true turns deliveries off; false turns a disabled endpoint back on and forgets its failures. */
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const WebhookEndpoint = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_endpoint'),
  url: Type.String(),
  events: Type.Array(Type.String()),
  status: Type.String(),
  disabled_reason: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  /** Only in the answer to POST /v1/webhook_endpoints. */
  secret: Type.Optional(Type.String()),
});

export const WebhookEndpointList = listOf(WebhookEndpoint);

export const DeletedWebhookEndpoint = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_endpoint'),
  deleted: Type.Literal(true),
});

export const ListQuery = listQuery({});

export const DeliveryListQuery = listQuery({
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')])),
  event_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});
