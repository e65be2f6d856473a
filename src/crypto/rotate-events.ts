import { Prisma, type Db } from '../db/prisma.ts';
import { isSealed, type ColumnCipher, type SealedColumn } from './column-cipher.ts';
import { sealedEventFields } from '../events/event-secrets.ts';
import { underCurrentKey, type TableRotation } from './rotate-table.ts';

// The outbox's encrypted fields (src/events/event-secrets.ts) brought to the current key, like
// rotateTable's columns: batches by id, one UPDATE each. Only those fields are rewritten (jsonb
// `||`), each from its exact stored text; the rest of an event's data is left as it is (events
// never change once written).

type Field = (typeof sealedEventFields)[number];

const contextOf = (field: Field): SealedColumn => `events.data.${field}`;
/** The field's name as an SQL literal (a constant of event-secrets.ts, never input). */
const literal = (field: Field) => Prisma.raw(`'${field}'`);

/** A field that is plaintext, or sealed under another key. Text fields only: metadata may be any JSON. */
function stale(field: Field, cipher: ColumnCipher): Prisma.Sql {
  const value = Prisma.sql`data -> ${literal(field)}`;
  const text = Prisma.sql`data ->> ${literal(field)}`;
  const outdated = Prisma.sql`NOT ${underCurrentKey(text, cipher)}`;
  if (field !== 'metadata') return Prisma.sql`(jsonb_typeof(${value}) = 'string' AND ${outdated})`;
  return Prisma.sql`(jsonb_typeof(${value}) NOT IN ('null', 'string') OR (jsonb_typeof(${value}) = 'string' AND ${outdated}))`;
}

/** The field's new stored value, or undefined when it is under the current key already. */
function resealed(cipher: ColumnCipher, field: Field, json: string | null): string | undefined {
  if (json === null) return undefined;
  const value: unknown = JSON.parse(json);
  if (typeof value === 'string' && isSealed(value)) {
    return cipher.needsRotation(value)
      ? cipher.seal(contextOf(field), cipher.open(contextOf(field), value))
      : undefined;
  }
  // Plaintext from before encryption: metadata is sealed as its JSON text, the others as text.
  if (field === 'metadata') return value === null ? undefined : cipher.seal(contextOf(field), json);
  return typeof value === 'string' ? cipher.seal(contextOf(field), value) : undefined;
}

export async function rotateEvents(db: Db, rotation: TableRotation): Promise<number> {
  const { cipher } = rotation;
  const anyStale = Prisma.join(
    sealedEventFields.map((field) => stale(field, cipher)),
    ' OR ',
  );
  const fields = Prisma.join(sealedEventFields.map((field) => Prisma.sql`(data -> ${literal(field)})::text`));
  let after = '';
  let changed = 0;
  for (;;) {
    const rows = await db.$queryRaw<{ id: string; fields: (string | null)[] }[]>`
      SELECT id, ARRAY[${fields}] AS fields FROM events
      WHERE id > ${after} AND ${rotation.merchants} AND (${anyStale})
      ORDER BY id LIMIT ${rotation.batchSizeRows}`;
    if (rows.length === 0) return changed;
    const patches = rows.map((row) => ({
      id: row.id,
      patch: Object.fromEntries(
        sealedEventFields.flatMap((field, index) => {
          const sealed = resealed(cipher, field, row.fields[index] ?? null);
          return sealed === undefined ? [] : [[field, sealed]];
        }),
      ),
    }));
    changed += await db.$executeRaw`
      UPDATE events AS e SET data = e.data || v.patch
      FROM jsonb_to_recordset(${JSON.stringify(patches)}::jsonb) AS v(id text, patch jsonb)
      WHERE e.id = v.id`;
    after = rows[rows.length - 1]!.id;
  }
}
