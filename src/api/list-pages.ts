import { Type, type TSchema } from 'typebox';
import { PaymentsError } from '../domain/errors.ts';

// Stripe-style lists, newest first: `limit`, `starting_after` (the page after an id) or
// `ending_before` (the page before it), `created[gte|gt|lte|lt]` as ISO 8601 or Unix seconds,
// answered `{ object: 'list', data, has_more }`. Every list pages by (created_at, id), the id
// breaking ties, so no row is skipped or repeated; a cursor that is not one of the caller's own
// rows is `resource_missing` naming the parameter, as Stripe answers it.

export const maxPageSize = 100;
export const defaultPageSize = 10;

const isoInstantPattern =
  '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})';
/** Unix seconds up to 11 digits: year 5138, within what Date holds. */
const unixSecondsPattern = '[0-9]{1,11}';

const ListInstant = Type.String({
  pattern: `^(${unixSecondsPattern}|${isoInstantPattern})$`,
  description: 'An ISO 8601 instant (2026-12-01T00:00:00Z) or Unix seconds (1796083200)',
});
const cursor = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });

/** The query fields every list takes; a route adds its own filters beside them. */
export const listQueryFields = {
  limit: Type.Integer({ minimum: 1, maximum: maxPageSize, default: defaultPageSize }),
  starting_after: Type.Optional(cursor('The last id of the previous page: the next, older page')),
  ending_before: Type.Optional(cursor('The first id of the current page: the newer page before it')),
  'created[gte]': Type.Optional(ListInstant),
  'created[gt]': Type.Optional(ListInstant),
  'created[lte]': Type.Optional(ListInstant),
  'created[lt]': Type.Optional(ListInstant),
};

/** A list's query: the shared fields, and the route's filters. */
export function listQuery<T extends Record<string, TSchema>>(filters: T) {
  return Type.Object({ ...filters, ...listQueryFields }, { additionalProperties: false });
}

/** The answer of every list. */
export function listOf<T extends TSchema>(item: T) {
  return Type.Object({ object: Type.Literal('list'), data: Type.Array(item), has_more: Type.Boolean() });
}

export interface ListQueryValues {
  limit: number;
  starting_after?: string | undefined;
  ending_before?: string | undefined;
  'created[gte]'?: string | undefined;
  'created[gt]'?: string | undefined;
  'created[lte]'?: string | undefined;
  'created[lt]'?: string | undefined;
}

export interface CreatedRange {
  gte?: Date;
  gt?: Date;
  lte?: Date;
  lt?: Date;
}

export interface PageRequest {
  limit: number;
  cursor?: { id: string; direction: 'after' | 'before'; param: 'starting_after' | 'ending_before' };
  created: CreatedRange;
}

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** An instant of a list's query (already matched by the schema's pattern); 400 naming `param` if no real one. */
export function listInstant(value: string, param: string): Date {
  const refuse = () =>
    new PaymentsError('parameter_invalid', `${param} is not an ISO 8601 instant or Unix seconds.`, param);
  if (/^[0-9]+$/.test(value)) return new Date(Number(value) * 1000);
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  // Date rolls 2026-02-30 over into March: a date that does not exist is refused instead.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw refuse();
  const instant = new Date(value);
  if (Number.isNaN(instant.getTime())) throw refuse();
  return instant;
}

/** The query as a page request; both cursors at once is a client error, as in Stripe. */
export function pageRequest(query: ListQueryValues): PageRequest {
  if (query.starting_after !== undefined && query.ending_before !== undefined) {
    throw new PaymentsError(
      'parameter_invalid',
      'starting_after and ending_before cannot be used together.',
      'ending_before',
    );
  }
  const created: CreatedRange = {};
  for (const bound of ['gte', 'gt', 'lte', 'lt'] as const) {
    const value = query[`created[${bound}]`];
    if (value !== undefined) created[bound] = listInstant(value, `created[${bound}]`);
  }
  const request: PageRequest = { limit: query.limit, created };
  if (query.starting_after !== undefined) {
    request.cursor = { id: query.starting_after, direction: 'after', param: 'starting_after' };
  } else if (query.ending_before !== undefined) {
    request.cursor = { id: query.ending_before, direction: 'before', param: 'ending_before' };
  }
  return request;
}

export interface Position {
  id: string;
  createdAt: Date;
}

/**
 * What a page reads, as Prisma's findMany takes it: the caller adds its own filters to `where`
 * (`{ AND: [own, page.where] }`). The cursor is Prisma's: it compares (created_at, id) with the
 * cursor row's in the database, at the column's microsecond precision; a Date read back would
 * have only milliseconds, and skip rows written in the cursor's millisecond (one transaction's
 * rows share its now() to the microsecond).
 */
export interface PageQuery {
  where: { createdAt?: CreatedRange };
  orderBy: [{ createdAt: 'asc' | 'desc' }, { id: 'asc' | 'desc' }];
  take: number;
  cursor?: { id: string };
}

export interface PageSource<Row> {
  /** The cursor's row if it is one of the caller's own (same tenant, same filters' scope); else null. */
  position: (id: string) => Promise<Position | null>;
  /** Rows matching the caller's filters and `page`. */
  rows: (page: PageQuery) => Promise<Row[]>;
}

export interface Page<Row> {
  data: Row[];
  hasMore: boolean;
}

/**
 * One page, newest first. After a cursor: the older rows. Before it: the newer rows nearest to
 * it, read oldest first and turned around; `has_more` then says whether newer ones remain.
 */
export async function listPage<Row extends { id: string }>(
  request: PageRequest,
  source: PageSource<Row>,
  noun: string,
): Promise<Page<Row>> {
  const limit = Math.min(Math.max(request.limit, 1), maxPageSize);
  const { cursor } = request;
  if (cursor && !(await source.position(cursor.id))) {
    throw new PaymentsError('resource_missing', `No such ${noun}: '${cursor.id}'.`, cursor.param);
  }
  const order = cursor?.direction === 'before' ? 'asc' : 'desc';
  const query: PageQuery = {
    where: Object.keys(request.created).length > 0 ? { createdAt: request.created } : {},
    orderBy: [{ createdAt: order }, { id: order }],
    // From the cursor's row on: it is left out below (not skipped by Prisma, which would skip
    // another row when the cursor's is not among the filtered ones).
    take: cursor ? limit + 2 : limit + 1,
    ...(cursor ? { cursor: { id: cursor.id } } : {}),
  };
  const rows = (await source.rows(query)).filter((row) => row.id !== cursor?.id).slice(0, limit + 1);
  const data = rows.slice(0, limit);
  return { data: order === 'desc' ? data : data.reverse(), hasMore: rows.length > limit };
}

/** The list answer. */
export function presentList<Row, Shown>(page: Page<Row>, present: (row: Row) => Shown) {
  return { object: 'list' as const, data: page.data.map(present), has_more: page.hasMore };
}
