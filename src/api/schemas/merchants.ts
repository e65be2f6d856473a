import { Type, type Static } from 'typebox';

export const CreateMerchantBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) },
  { additionalProperties: false },
);
export type CreateMerchantBody = Static<typeof CreateMerchantBody>;

export const CreatedMerchant = Type.Object({
  id: Type.String(),
  object: Type.Literal('merchant'),
  name: Type.Union([Type.String(), Type.Null()]),
  api_key: Type.String({ description: 'Shown once; only its hash is stored.' }),
  created_at: Type.String({ format: 'date-time' }),
});
