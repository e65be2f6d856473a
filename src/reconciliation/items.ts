import type { Db, Prisma } from '../db/prisma.ts';
import { PaymentsError } from '../domain/errors.ts';
import { presentItem, type ReconciliationItem } from './public-item.ts';

// A run's items as operators see and settle them: listed oldest first, resolved with a note
// saying what was done (a late posting, a refund booked by hand, a provider's correction).

const withCurrency = { run: { select: { currency: true } } } satisfies Prisma.ReconciliationItemInclude;

type ItemRow = Prisma.ReconciliationItemGetPayload<{ include: typeof withCurrency }>;

const present = (row: ItemRow) => presentItem({ ...row, currency: row.run.currency });

export const maxItemPageSize = 100;

export async function findItem(db: Db, id: string): Promise<ReconciliationItem | undefined> {
  const row = await db.reconciliationItem.findUnique({ where: { id }, include: withCurrency });
  return row ? present(row) : undefined;
}

export async function listItems(
  db: Db,
  filter: {
    runId: string;
    kind?: string | undefined;
    status?: string | undefined;
    limit: number;
    startingAfter?: string | undefined;
  },
): Promise<{ data: ReconciliationItem[]; hasMore: boolean }> {
  const where: Prisma.ReconciliationItemWhereInput = { runId: filter.runId, kind: filter.kind, status: filter.status };
  if (filter.startingAfter) {
    const cursor = await db.reconciliationItem.findFirst({
      where: { id: filter.startingAfter, runId: filter.runId },
      select: { id: true, createdAt: true },
    });
    if (!cursor) {
      throw new PaymentsError('resource_missing', 'No such item in this run for starting_after.', 'starting_after');
    }
    where.OR = [{ createdAt: { gt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { gt: cursor.id } }];
  }
  const rows = await db.reconciliationItem.findMany({
    where,
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: filter.limit + 1,
    include: withCurrency,
  });
  return { data: rows.slice(0, filter.limit).map(present), hasMore: rows.length > filter.limit };
}

/**
 * Marks an open item resolved with the operator's note. Resolving it again with the same note
 * answers it as it is (a retried request); another note is refused: the first one stands.
 */
export async function resolveItem(db: Db, id: string, note: string): Promise<ReconciliationItem> {
  await db.reconciliationItem.updateMany({
    where: { id, status: 'open' },
    data: { status: 'resolved', note, resolvedAt: new Date() },
  });
  const item = await findItem(db, id);
  if (!item) throw new PaymentsError('resource_missing', `No such reconciliation item: '${id}'.`, 'id');
  if (item.note !== note) {
    throw new PaymentsError(
      'item_already_resolved',
      `This item was already resolved on ${item.resolved_at ?? 'an earlier day'} with another note.`,
    );
  }
  return item;
}
