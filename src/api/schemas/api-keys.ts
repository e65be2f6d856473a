import { Type } from 'typebox';
import { maxApiKeyNameLength, maxRollExpirySeconds } from '../../api-keys/api-keys.ts';

export const CreateApiKeyBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: maxApiKeyNameLength })) },
  { additionalProperties: false },
);

export const RollApiKeyBody = Type.Object(
  {
    expires_in_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: maxRollExpirySeconds,
        description: 'How long the old key keeps working: 0 stops it at once; 86400 (24 hours) when absent.',
      }),
    ),
  },
  { additionalProperties: false },
);

const Timestamp = Type.String({ format: 'date-time' });
const OptionalTimestamp = Type.Union([Timestamp, Type.Null()]);

export const ApiKey = Type.Object({
  id: Type.String(),
  object: Type.Literal('api_key'),
  name: Type.Union([Type.String(), Type.Null()], { examples: ['checkout server'] }),
  prefix: Type.String({ description: "The secret's first 12 characters, to tell keys apart." }),
  status: Type.String({ description: 'active, expired (past expires_at) or revoked' }),
  created_at: Timestamp,
  expires_at: Type.Union([Timestamp, Type.Null()], {
    description: 'Set by a roll: the end of the old key’s grace window.',
  }),
  revoked_at: OptionalTimestamp,
  last_used_at: Type.Union([Timestamp, Type.Null()], {
    description: 'When a request last authenticated with it, to within a minute.',
  }),
  rolled_to: Type.Union([Type.String(), Type.Null()], { description: 'The key a roll replaced this one with.' }),
  secret: Type.Optional(
    Type.String({
      description: 'Only in the answers to a creation and a roll: shown once, stored as a hash.',
      examples: ['sk_test_4eC39HqLyjWDarjtT1zdp7dcAbCdEfGh'],
    }),
  ),
});

export const ApiKeyList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(ApiKey),
  has_more: Type.Boolean(),
});

export const ApiKeyListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
    starting_after: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
