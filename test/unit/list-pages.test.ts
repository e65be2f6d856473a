import { describe, expect, it } from 'vitest';
import { listInstant, listPage, pageRequest, type PageQuery, type Position } from '../../src/api/list-pages.ts';
import { PaymentsError } from '../../src/domain/errors.ts';

// The shared list helper's pure parts: instants in both formats, the page request, and how a
// page is cut and turned in each direction (the database part is a stand-in here; the real
// one is test/integration/resource-lists.test.ts).

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof PaymentsError) return { code: error.code, param: error.param };
    throw error;
  }
  throw new Error('not refused');
};

describe('listInstant', () => {
  it('reads Unix seconds and ISO 8601 instants with any offset', () => {
    expect(listInstant('1767225600', 'created[gte]').toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(listInstant('0', 'created[gte]').toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect(listInstant('2026-01-01T01:00:00+01:00', 'created[gte]').toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(listInstant('2026-02-28T23:59:59.999Z', 'created[lt]').toISOString()).toBe('2026-02-28T23:59:59.999Z');
    expect(listInstant('2028-02-29T00:00:00Z', 'created[lt]').toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });

  it.each(['2026-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z'])(
    'refuses %s, a date that does not exist, naming the parameter',
    (value) => {
      expect(refusal(() => listInstant(value, 'created[lte]'))).toEqual({
        code: 'parameter_invalid',
        param: 'created[lte]',
      });
    },
  );
});

describe('pageRequest', () => {
  it('takes one cursor and every created bound', () => {
    expect(
      pageRequest({ limit: 5, ending_before: 'acct_1', 'created[gt]': '10', 'created[lte]': '2026-01-01T00:00:00Z' }),
    ).toEqual({
      limit: 5,
      cursor: { id: 'acct_1', direction: 'before', param: 'ending_before' },
      created: { gt: new Date(10_000), lte: new Date('2026-01-01T00:00:00Z') },
    });
    expect(pageRequest({ limit: 10 })).toEqual({ limit: 10, created: {} });
  });

  it('refuses both cursors at once', () => {
    expect(refusal(() => pageRequest({ limit: 1, starting_after: 'a', ending_before: 'b' }))).toEqual({
      code: 'parameter_invalid',
      param: 'ending_before',
    });
  });
});

describe('listPage', () => {
  // Five rows, one second apart; the last two share an instant, so the id breaks the tie.
  const rows: Position[] = [
    { id: 'r1', createdAt: new Date(1_000) },
    { id: 'r2', createdAt: new Date(2_000) },
    { id: 'r3', createdAt: new Date(3_000) },
    { id: 'r4', createdAt: new Date(4_000) },
    { id: 'r5', createdAt: new Date(4_000) },
  ];
  // Prisma's findMany as the helper uses it: created bounds, order, from the cursor on.
  const source = {
    position: async (id: string) => rows.find((row) => row.id === id) ?? null,
    rows: async (query: PageQuery) => {
      const { gte, gt, lte, lt } = query.where.createdAt ?? {};
      const direction = query.orderBy[0].createdAt === 'asc' ? 1 : -1;
      const sorted = rows
        .filter((row) => {
          const time = row.createdAt.getTime();
          return (
            (gte === undefined || time >= gte.getTime()) &&
            (gt === undefined || time > gt.getTime()) &&
            (lte === undefined || time <= lte.getTime()) &&
            (lt === undefined || time < lt.getTime())
          );
        })
        .sort((x, y) => direction * (x.createdAt.getTime() - y.createdAt.getTime() || (x.id < y.id ? -1 : 1)));
      // Prisma's cursor: from the cursor row's place in the order, itself included when it matches.
      const at = query.cursor ? rows.find((row) => row.id === query.cursor!.id)! : undefined;
      const start = at
        ? sorted.findIndex(
            (row) =>
              direction *
                (row.createdAt.getTime() - at.createdAt.getTime() || (row.id < at.id ? -1 : row.id > at.id ? 1 : 0)) >=
              0,
          )
        : 0;
      return start < 0 ? [] : sorted.slice(start, start + query.take);
    },
  };
  const page = async (query: Parameters<typeof pageRequest>[0]) => {
    const result = await listPage(pageRequest(query), source, 'row');
    return { ids: result.data.map((row) => row.id), hasMore: result.hasMore };
  };

  it('pages newest first after a cursor and newest first before one', async () => {
    expect(await page({ limit: 2 })).toEqual({ ids: ['r5', 'r4'], hasMore: true });
    expect(await page({ limit: 2, starting_after: 'r5' })).toEqual({ ids: ['r4', 'r3'], hasMore: true });
    expect(await page({ limit: 2, starting_after: 'r3' })).toEqual({ ids: ['r2', 'r1'], hasMore: false });
    expect(await page({ limit: 2, ending_before: 'r2' })).toEqual({ ids: ['r4', 'r3'], hasMore: true });
    expect(await page({ limit: 2, ending_before: 'r4' })).toEqual({ ids: ['r5'], hasMore: false });
    expect(await page({ limit: 3, 'created[gte]': '2', 'created[lt]': '4' })).toEqual({
      ids: ['r3', 'r2'],
      hasMore: false,
    });
  });

  it('answers an unknown cursor as resource_missing naming its parameter', async () => {
    await expect(listPage(pageRequest({ limit: 1, ending_before: 'r9' }), source, 'row')).rejects.toMatchObject({
      code: 'resource_missing',
      param: 'ending_before',
      message: "No such row: 'r9'.",
    });
  });
});
