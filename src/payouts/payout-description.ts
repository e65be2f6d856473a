import type { ColumnCipher } from '../crypto/column-cipher.ts';

// A payout's description is the merchant's free text: stored encrypted
// (src/crypto/column-cipher.ts), like an account's notes. This file is where it is sealed and opened.

export function sealPayoutDescription(cipher: ColumnCipher, description: string | null): string | null {
  return cipher.sealNullable('payouts.description', description);
}

/** A `payouts` row with its description readable (plaintext from before encryption reads as it is). */
export function openPayoutDescription<T extends { description: string | null }>(cipher: ColumnCipher, row: T): T {
  return { ...row, description: cipher.openNullable('payouts.description', row.description) };
}
