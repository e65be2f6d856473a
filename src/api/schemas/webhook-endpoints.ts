import { Type } from 'typebox';
import {
  defaultRolledSecretLifetimeSeconds,
  maxEndpointUrlLength,
  maxEventTypesPerEndpoint,
  maxRolledSecretLifetimeSeconds,
  subscribableEventTypes,
} from '../../webhooks/endpoints.ts';
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
  /** Until when the secret the last roll replaced still signs deliveries (beside the new one). */
  previous_secret_expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  /** Only in the answers to POST /v1/webhook_endpoints and to a roll of its secret. */
  secret: Type.Optional(Type.String()),
});

export const RollWebhookSecretBody = Type.Object(
  {
    /** How long the replaced secret keeps signing beside the new one; 0: it stops at once. */
    expires_in_seconds: Type.Integer({
      minimum: 0,
      maximum: maxRolledSecretLifetimeSeconds,
      default: defaultRolledSecretLifetimeSeconds,
    }),
  },
  { additionalProperties: false },
);

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
