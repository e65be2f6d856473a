import { Type, type Static } from 'typebox';

// The one public shape of a merchant, for operators (GET /v1/merchants(/:id)): who it is, never
// its keys. The creation answer adds the key, once (src/api/schemas/merchants.ts).

export const Merchant = Type.Object({
  id: Type.String(),
  object: Type.Literal('merchant'),
  name: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});
export type Merchant = Static<typeof Merchant>;

export interface MerchantFacts {
  id: string;
  name: string | null;
  createdAt: Date;
}

export function presentMerchant(merchant: MerchantFacts): Merchant {
  return { id: merchant.id, object: 'merchant', name: merchant.name, created_at: merchant.createdAt.toISOString() };
}
