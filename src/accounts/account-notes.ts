import type { ColumnCipher } from '../crypto/column-cipher.ts';
import { inJsonbOrder } from '../db/jsonb-order.ts';

// An account's description and metadata (the merchant's notes) are stored encrypted
// (src/crypto/column-cipher.ts), like a payment's: this file is where they are sealed and opened.

export interface AccountNotes {
  description: string | null;
  metadata: unknown;
}

export interface SealedAccountNotes {
  description: string | null;
  /** The JSON string the jsonb column keeps; null for none. */
  metadata: string | null;
}

export function sealAccountNotes(cipher: ColumnCipher, notes: AccountNotes): SealedAccountNotes {
  return {
    description: cipher.sealNullable('accounts.description', notes.description),
    metadata: cipher.sealJson('accounts.metadata', notes.metadata),
  };
}

/** An accounts row with its notes readable, metadata's keys in the order jsonb kept them before. */
export function openAccountNotes<T extends AccountNotes>(cipher: ColumnCipher, row: T): T {
  return {
    ...row,
    description: cipher.openNullable('accounts.description', row.description),
    metadata: inJsonbOrder(cipher.openJson('accounts.metadata', row.metadata)),
  };
}
