import { Prisma, type Db } from '../db/prisma.ts';
import { sealedPrefix, type ColumnCipher } from './column-cipher.ts';
import { openPaymentSecrets, sealPaymentSecrets } from '../payments/payment-secrets.ts';

// Brings every encrypted column to the current key: plaintext written before encryption is
// encrypted, values under an older key are re-encrypted, and each payment's customer gets its
// blind index under the current key. Batched by primary key (one pass over each table, one
// UPDATE per batch) and idempotent: a second run finds nothing to do. The columns it touches
// never change after their row is written, so it runs beside live traffic.

/** Rows read and rewritten per statement. */
export const defaultRotationBatchSize = 500;

export interface RotationResult {
  payments: number;
  webhookEndpoints: number;
  idempotencyKeys: number;
}

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
  const webhookEndpoints = await rotateEndpointSecrets(db, cipher, { current, batchSizeRows, merchants });
  const idempotencyKeys = await rotateIdempotentAnswers(db, cipher, { current, batchSizeRows, merchants });
  return { payments, webhookEndpoints, idempotencyKeys };
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
}

async function rotatePayments(db: Db, cipher: ColumnCipher, batch: Batch & { currentIndex: string }): Promise<number> {
  let after = '';
  let changed = 0;
  for (;;) {
    // starts_with, not LIKE: key ids may contain `_`, a LIKE wildcard.
    const rows = await db.$queryRaw<PaymentRow[]>`
      SELECT id, customer, description, metadata FROM payments
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
      return { id: row.id, ...sealed, metadata: sealed.metadata === null ? null : JSON.stringify(sealed.metadata) };
    });
    changed += await db.$executeRaw`
      UPDATE payments AS p SET customer = v.customer, customer_index = v."customerIndex",
        description = v.description, metadata = v.metadata::jsonb
      FROM jsonb_to_recordset(${JSON.stringify(rewritten)}::jsonb)
        AS v(id text, customer text, "customerIndex" text, description text, metadata text)
      WHERE p.id = v.id`;
    after = rows[rows.length - 1]!.id;
  }
}

async function rotateEndpointSecrets(db: Db, cipher: ColumnCipher, batch: Batch): Promise<number> {
  let after = '';
  let changed = 0;
  for (;;) {
    const rows = await db.$queryRaw<{ id: string; secret: string }[]>`
      SELECT id, secret FROM webhook_endpoints
      WHERE id > ${after} AND ${batch.merchants} AND NOT starts_with(secret, ${batch.current})
      ORDER BY id LIMIT ${batch.batchSizeRows}`;
    if (rows.length === 0) return changed;
    const rewritten = rows.map((row) => ({
      id: row.id,
      secret: cipher.seal('webhook_endpoints.secret', cipher.open('webhook_endpoints.secret', row.secret)),
    }));
    changed += await db.$executeRaw`
      UPDATE webhook_endpoints AS e SET secret = v.secret
      FROM jsonb_to_recordset(${JSON.stringify(rewritten)}::jsonb) AS v(id text, secret text)
      WHERE e.id = v.id`;
    after = rows[rows.length - 1]!.id;
  }
}

/** Stored answers of idempotent requests (kept IDEMPOTENCY_KEY_TTL_MS), keyed by (merchant, key). */
async function rotateIdempotentAnswers(db: Db, cipher: ColumnCipher, batch: Batch): Promise<number> {
  let after = { merchantId: '', key: '' };
  let changed = 0;
  const column = 'idempotency_keys.response_body';
  for (;;) {
    const rows = await db.$queryRaw<{ merchant_id: string; key: string; response_body: unknown }[]>`
      SELECT merchant_id, key, response_body FROM idempotency_keys
      WHERE (merchant_id, key) > (${after.merchantId}, ${after.key}) AND ${batch.merchants}
        AND response_body IS NOT NULL
        AND (jsonb_typeof(response_body) <> 'string' OR NOT starts_with(response_body #>> '{}', ${batch.current}))
      ORDER BY merchant_id, key LIMIT ${batch.batchSizeRows}`;
    if (rows.length === 0) return changed;
    const rewritten = rows.map((row) => ({
      merchant_id: row.merchant_id,
      key: row.key,
      body: JSON.stringify(cipher.sealJson(column, cipher.openJson(column, row.response_body))),
    }));
    changed += await db.$executeRaw`
      UPDATE idempotency_keys AS k SET response_body = v.body::jsonb
      FROM jsonb_to_recordset(${JSON.stringify(rewritten)}::jsonb) AS v(merchant_id text, key text, body text)
      WHERE k.merchant_id = v.merchant_id AND k.key = v.key`;
    const last = rows[rows.length - 1]!;
    after = { merchantId: last.merchant_id, key: last.key };
  }
}
