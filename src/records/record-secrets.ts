import type { ColumnCipher } from '../crypto/column-cipher.ts';
import { inJsonbOrder } from '../db/jsonb-order.ts';
import type { RecordPayload } from './record-payload.ts';

// A recorded payment's customer reference and metadata are stored encrypted: by Node (v1) when
// the recording webhook's workflow writes the row, by PostgreSQL itself (v2, src/crypto/sql-seal.ts)
// when the import does; both read alike. A webhook's record waits for its workflow in
// payment_references.payload, encrypted whole, and is cleared once recorded.

export interface RecordSecrets {
  customerReference: string | null;
  metadata: unknown;
}

export interface SealedRecordSecrets {
  customerReference: string | null;
  /** The JSON string the jsonb column keeps; null for none. */
  metadata: string | null;
}

export function sealRecordSecrets(cipher: ColumnCipher, secrets: RecordSecrets): SealedRecordSecrets {
  return {
    customerReference: cipher.sealNullable('recorded_payments.customer_reference', secrets.customerReference),
    metadata: cipher.sealJson('recorded_payments.metadata', secrets.metadata),
  };
}

/** A recorded_payments row with both readable, its metadata's keys in the order jsonb kept them. */
export function openRecordSecrets<T extends RecordSecrets>(cipher: ColumnCipher, row: T): T {
  return {
    ...row,
    customerReference: cipher.openNullable('recorded_payments.customer_reference', row.customerReference),
    metadata: inJsonbOrder(cipher.openJson('recorded_payments.metadata', row.metadata)),
  };
}

/** The payload column's value: the record as an encrypted JSON string. */
export function sealRecordPayload(cipher: ColumnCipher, payload: RecordPayload): string {
  return cipher.seal('payment_references.payload', JSON.stringify(payload));
}

/** What sealRecordPayload stored (or a plain payload written before encryption). */
export function openRecordPayload(cipher: ColumnCipher, stored: unknown): RecordPayload {
  return cipher.openJson('payment_references.payload', stored) as RecordPayload;
}
