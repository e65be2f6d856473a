import { Type, type Static } from 'typebox';
import { listOf, listQuery } from '../list-pages.ts';
import { Merchant } from '../../merchants/public-merchant.ts';

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

// The public shape lives with the resource.
export { Merchant };
export const MerchantList = listOf(Merchant);
export const MerchantListQuery = listQuery({});
