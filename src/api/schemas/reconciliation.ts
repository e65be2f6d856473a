import { Type } from 'typebox';
import { CurrencyCode } from './common.ts';
import { ReconciliationRun } from '../../reconciliation/public-run.ts';
import { ReconciliationItem } from '../../reconciliation/public-item.ts';
import { maxItemPageSize } from '../../reconciliation/items.ts';
import { maxRunPageSize } from '../../reconciliation/runs.ts';

export { ReconciliationItem, ReconciliationRun };

const Provider = Type.Union([Type.Literal('stripe'), Type.Literal('paypal')]);
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'UTC day, YYYY-MM-DD' });
const Cursor = Type.String({ minLength: 1, maxLength: 64 });

export const CreateRunBody = Type.Object(
  { provider: Provider, currency: CurrencyCode, date: Day },
  { additionalProperties: false },
);

export const RunListQuery = Type.Object(
  {
    provider: Type.Optional(Provider),
    currency: Type.Optional(CurrencyCode),
    date: Type.Optional(Day),
    status: Type.Optional(Type.Union([Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')])),
    limit: Type.Integer({ minimum: 1, maximum: maxRunPageSize, default: 10 }),
    starting_after: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export const ItemListQuery = Type.Object(
  {
    kind: Type.Optional(
      Type.Union([
        Type.Literal('missing_in_ledger'),
        Type.Literal('missing_at_provider'),
        Type.Literal('amount_mismatch'),
        Type.Literal('duplicate'),
      ]),
    ),
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])),
    limit: Type.Integer({ minimum: 1, maximum: maxItemPageSize, default: 50 }),
    starting_after: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export const ResolveItemBody = Type.Object(
  { note: Type.String({ minLength: 1, maxLength: 1_000, description: 'What was done about it' }) },
  { additionalProperties: false },
);

export const RunList = Type.Object({
  object: Type.Literal('list'),
  has_more: Type.Boolean(),
  data: Type.Array(ReconciliationRun),
});

export const ItemList = Type.Object({
  object: Type.Literal('list'),
  has_more: Type.Boolean(),
  data: Type.Array(ReconciliationItem),
});
