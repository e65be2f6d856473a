import { Prisma, type Db } from '../db/prisma.ts';
import { isSealed, sealedPrefixesOf, type ColumnCipher, type SealedColumn } from './column-cipher.ts';

// One table's encrypted columns brought to the current key, in batches by primary key: each
// batch reads the rows with a value that is plaintext or under another key (either format),
// decrypts and encrypts them again in Node, and writes them back in one UPDATE, only where the
// row still holds what was read: a value changed meanwhile (a merchant's new notes, a payload
// cleared once recorded) is never overwritten with the old one. A jsonb column is read as its
// text, so plaintext JSON is encrypted exactly as stored (no round trip through JS numbers). A
// second run finds nothing. Names come from the constant descriptions of the callers, never from input.

export interface SealedTable {
  table: string;
  /** Text columns that tell rows apart (the primary key, or a unique part of it), in key order. */
  key: readonly string[];
  /** jsonb columns keep the ciphertext as a JSON string. */
  columns: readonly { name: string; sealed: SealedColumn; json: boolean }[];
}

export interface TableRotation {
  cipher: ColumnCipher;
  batchSizeRows: number;
  /** A condition on the table's merchant_id (TRUE for every row). */
  merchants: Prisma.Sql;
}

type Row = Record<string, unknown>;
type Column = SealedTable['columns'][number];

/** A sealed value under the current key, of a text column or of a jsonb one's JSON string. */
export function underCurrentKey(text: Prisma.Sql, cipher: ColumnCipher): Prisma.Sql {
  // starts_with, not LIKE: key ids may contain `_`, a LIKE wildcard.
  const tests = sealedPrefixesOf(cipher.keyring.currentKeyId).map(
    (prefix) => Prisma.sql`starts_with(${text}, ${prefix})`,
  );
  return Prisma.sql`(${Prisma.join(tests, ' OR ')})`;
}

function stale(column: Column, cipher: ColumnCipher): Prisma.Sql {
  const name = Prisma.raw(column.name);
  if (!column.json) return Prisma.sql`(${name} IS NOT NULL AND NOT ${underCurrentKey(Prisma.sql`${name}`, cipher)})`;
  return Prisma.sql`(${name} IS NOT NULL AND jsonb_typeof(${name}) <> 'null' AND (jsonb_typeof(${name}) <> 'string'
    OR NOT ${underCurrentKey(Prisma.sql`${name} #>> '{}'`, cipher)}))`;
}

/** The new stored text: of the column, or of the jsonb column's JSON (a JSON string). */
function resealed(column: Column, cipher: ColumnCipher, stored: string | null): string | null {
  if (stored === null) return null;
  if (!column.json) return cipher.seal(column.sealed, cipher.open(column.sealed, stored));
  const value: unknown = JSON.parse(stored);
  // JSON null reads as no value, as sealJson stores it.
  if (value === null) return null;
  // What sealJson sealed is JSON text; plaintext JSON from before encryption is that text already.
  const json = typeof value === 'string' && isSealed(value) ? cipher.open(column.sealed, value) : stored;
  return JSON.stringify(cipher.seal(column.sealed, json));
}

const selected = (column: Column) => (column.json ? `${column.name}::text AS ${column.name}` : column.name);
const storedText = (column: Column, table: string) =>
  column.json ? `${table}.${column.name}::text` : `${table}.${column.name}`;

/** Rewrites what is not under the current key; returns how many rows changed. */
export async function rotateTable(db: Db, table: SealedTable, rotation: TableRotation): Promise<number> {
  const { cipher } = rotation;
  const keys = Prisma.raw(table.key.join(', '));
  const columns = Prisma.raw(table.columns.map(selected).join(', '));
  const anyStale = Prisma.join(
    table.columns.map((column) => stale(column, cipher)),
    ' OR ',
  );
  const recordType = Prisma.raw(
    [
      ...table.key.map((key) => `${key} text`),
      ...table.columns.flatMap((column) => [`${column.name} text`, `old_${column.name} text`]),
    ].join(', '),
  );
  const assignments = Prisma.raw(
    table.columns.map((column) => `${column.name} = v.${column.name}${column.json ? '::jsonb' : ''}`).join(', '),
  );
  const matches = Prisma.raw(
    [
      ...table.key.map((key) => `t.${key} = v.${key}`),
      ...table.columns.map((column) => `${storedText(column, 't')} IS NOT DISTINCT FROM v.old_${column.name}`),
    ].join(' AND '),
  );
  // Keys sort after '' (ids and references are never empty).
  let after: Row = Object.fromEntries(table.key.map((key) => [key, '']));
  let changed = 0;
  for (;;) {
    const rows = await db.$queryRaw<Row[]>`
      SELECT ${keys}, ${columns} FROM ${Prisma.raw(table.table)}
      WHERE (${keys}) > (${Prisma.join(table.key.map((key) => Prisma.sql`${after[key] as string}::text`))})
        AND ${rotation.merchants} AND (${anyStale})
      ORDER BY ${keys} LIMIT ${rotation.batchSizeRows}`;
    if (rows.length === 0) return changed;
    const rewritten = rows.map((row) => ({
      ...Object.fromEntries(table.key.map((key) => [key, row[key]])),
      ...Object.fromEntries(
        table.columns.flatMap((column) => {
          const stored = row[column.name] as string | null;
          return [
            [column.name, resealed(column, cipher, stored)],
            [`old_${column.name}`, stored],
          ];
        }),
      ),
    }));
    changed += await db.$executeRaw`
      UPDATE ${Prisma.raw(table.table)} AS t SET ${assignments}
      FROM jsonb_to_recordset(${JSON.stringify(rewritten)}::jsonb) AS v(${recordType})
      WHERE ${matches}`;
    after = rows[rows.length - 1]!;
  }
}
