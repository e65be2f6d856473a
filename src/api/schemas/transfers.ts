import { Type, type Static } from 'typebox';
import { AmountMinor, CurrencyCode } from './common.ts';
import { listOf, listQuery } from '../list-pages.ts';
import { Transfer } from '../../transfers/public-transfer.ts';

export const CreateTransferBody = Type.Object(
  {
    from_account_id: Type.String({ minLength: 1, maxLength: 64 }),
    to_account_id: Type.String({ minLength: 1, maxLength: 64 }),
    amount: AmountMinor,
    currency: CurrencyCode,
    description: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type CreateTransferBody = Static<typeof CreateTransferBody>;

// The public shape lives with the resource, shared by routes and events.
export { Transfer };
export const TransferList = listOf(Transfer);
export const TransferListQuery = listQuery({
  account_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Transfers from or to it' })),
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')])),
});
