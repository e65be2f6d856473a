import type { ColumnCipher } from '../crypto/column-cipher.ts';

// A transfer's description is the merchant's free text: stored encrypted
// (src/crypto/column-cipher.ts), like an account's notes. This file is where it is sealed and opened.

export function sealTransferDescription(cipher: ColumnCipher, description: string | null): string | null {
  return cipher.sealNullable('transfers.description', description);
}

/** A `transfers` row with its description readable (plaintext from before encryption reads as it is). */
export function openTransferDescription<T extends { description: string | null }>(cipher: ColumnCipher, row: T): T {
  return { ...row, description: cipher.openNullable('transfers.description', row.description) };
}
