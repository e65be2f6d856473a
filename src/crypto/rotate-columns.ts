import { Prisma, type Db } from '../db/prisma.ts';
import { sealedPrefix, type ColumnCipher } from './column-cipher.ts';
import { openPaymentSecrets, sealPaymentSecrets } from '../payments/payment-secrets.ts';
import { rotateTable, type SealedTable } from './rotate-table.ts';
import { rotateEvents } from './rotate-events.ts';

// Brings every encrypted column to the current key: plaintext written before encryption is
// encrypted, values under an older key (in either format, src/crypto/sql-seal.ts) are
// re-encrypted, and each payment's customer gets its blind index under the current key. Batched
// by primary key (one pass over each table, one UPDATE per batch) and idempotent: a second run
// finds nothing to do. It runs beside live traffic: a row is rewritten only if it still holds
// what was read.

/** Rows read and rewritten per statement. */
export const defaultRotationBatchSize = 500;

export interface RotationResult {
  payments: number;
  webhookEndpoints: number;
  idempotencyKeys: number;
  accounts: number;
  recordedPayments: number;
  paymentReferences: number;
  transfers: number;
  payouts: number;
  events: number;
}

const json = true;
/** The tables rotateTable rewrites; payments (blind index) and events (fields in data) have their own. */
const sealedTables = {
  webhookEndpoints: {
    table: 'webhook_endpoints',
    key: ['id'],
    columns: [
      { name: 'secret', sealed: 'webhook_endpoints.secret', json: false },
      { name: 'previous_secret', sealed: 'webhook_endpoints.previous_secret', json: false },
    ],
  },
  // Stored answers of idempotent requests (kept IDEMPOTENCY_KEY_TTL_MS).
  idempotencyKeys: {
    table: 'idempotency_keys',
    key: ['merchant_id', 'key'],
    columns: [{ name: 'response_body', sealed: 'idempotency_keys.response_body', json }],
  },
  accounts: {
    table: 'accounts',
    key: ['id'],
    columns: [
      { name: 'description', sealed: 'accounts.description', json: false },
      { name: 'metadata', sealed: 'accounts.metadata', json },
    ],
  },
  // Partitioned by paid_at; ids are unique across the partitions.
  recordedPayments: {
    table: 'recorded_payments',
    key: ['id'],
    columns: [
      { name: 'customer_reference', sealed: 'recorded_payments.customer_reference', json: false },
      { name: 'metadata', sealed: 'recorded_payments.metadata', json },
    ],
  },
  paymentReferences: {
    table: 'payment_references',
    key: ['merchant_id', 'reference'],
    columns: [{ name: 'payload', sealed: 'payment_references.payload', json }],
  },
  transfers: {
    table: 'transfers',
    key: ['id'],
    columns: [{ name: 'description', sealed: 'transfers.description', json: false }],
  },
  payouts: {
    table: 'payouts',
    key: ['id'],
    columns: [{ name: 'description', sealed: 'payouts.description', json: false }],
  },
} satisfies Record<string, SealedTable>;

/** Rewrites what is not under the current key; returns how many rows changed in each table. */
export async function rotateColumns(
  db: Db,
  cipher: ColumnCipher,
  options: {
    batchSizeRows?: number;
    /** Only these merchants' rows (the test suites share one database); default: every row. */
    merchantIds?: readonly string[];
  } = {},
): Promise<RotationResult> {
  const batchSizeRows = options.batchSizeRows ?? defaultRotationBatchSize;
  if (!Number.isSafeInteger(batchSizeRows) || batchSizeRows < 1) throw new Error('batchSizeRows must be positive');
  const current = `${sealedPrefix}${cipher.keyring.currentKeyId}:`;
  const currentIndex = `${cipher.keyring.currentKeyId}:`;
  const merchants = options.merchantIds
    ? Prisma.sql`merchant_id = ANY(${[...options.merchantIds]}::text[])`
    : Prisma.sql`TRUE`;
  const payments = await rotatePayments(db, cipher, { current, currentIndex, batchSizeRows, merchants });
  const rotation = { cipher, batchSizeRows, merchants };
  return {
    payments,
    webhookEndpoints: await rotateTable(db, sealedTables.webhookEndpoints, rotation),
    idempotencyKeys: await rotateTable(db, sealedTables.idempotencyKeys, rotation),
    accounts: await rotateTable(db, sealedTables.accounts, rotation),
    recordedPayments: await rotateTable(db, sealedTables.recordedPayments, rotation),
    paymentReferences: await rotateTable(db, sealedTables.paymentReferences, rotation),
    transfers: await rotateTable(db, sealedTables.transfers, rotation),
    payouts: await rotateTable(db, sealedTables.payouts, rotation),
    events: await rotateEvents(db, rotation),
  };
}

interface Batch {
  current: string;
  batchSizeRows: number;
  merchants: Prisma.Sql;
}

interface PaymentRow {
  id: string;
  customer: string | null;
  description: string | null;
  metadata: unknown;
  metadata_text: string | null;
}

async function rotatePayments(db: Db, cipher: ColumnCipher, batch: Batch & { currentIndex: string }): Promise<number> {
  let after = '';
  let changed = 0;
  for (;;) {
    // starts_with, not LIKE: key ids may contain `_`, a LIKE wildcard.
    const rows = await db.$queryRaw<PaymentRow[]>`
      SELECT id, customer, description, metadata, metadata::text AS metadata_text FROM payments
      WHERE id > ${after} AND ${batch.merchants} AND (
        (customer IS NOT NULL AND (NOT starts_with(customer, ${batch.current})
          OR customer_index IS NULL OR NOT starts_with(customer_index, ${batch.currentIndex})))
        OR (description IS NOT NULL AND NOT starts_with(description, ${batch.current}))
        OR (metadata IS NOT NULL AND (jsonb_typeof(metadata) <> 'string'
          OR NOT starts_with(metadata #>> '{}', ${batch.current}))))
      ORDER BY id LIMIT ${batch.batchSizeRows}`;
    if (rows.length === 0) return changed;
    const rewritten = rows.map((row) => {
      const sealed = sealPaymentSecrets(cipher, openPaymentSecrets(cipher, row));
      return {
        id: row.id,
        ...sealed,
        metadata: sealed.metadata === null ? null : JSON.stringify(sealed.metadata),
        old_description: row.description,
        old_metadata: row.metadata_text,
      };
    });
    // Description and metadata change on POST /v1/payments/:id: a row changed since it was read keeps its new notes.
    changed += await db.$executeRaw`
      UPDATE payments AS p SET customer = v.customer, customer_index = v."customerIndex",
        description = v.description, metadata = v.metadata::jsonb
      FROM jsonb_to_recordset(${JSON.stringify(rewritten)}::jsonb)
        AS v(id text, customer text, "customerIndex" text, description text, metadata text, old_description text,
             old_metadata text)
      WHERE p.id = v.id AND p.description IS NOT DISTINCT FROM v.old_description
        AND p.metadata::text IS NOT DISTINCT FROM v.old_metadata`;
    after = rows[rows.length - 1]!.id;
  }
}
