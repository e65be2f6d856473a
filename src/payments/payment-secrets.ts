import type { ColumnCipher } from '../crypto/column-cipher.ts';

// A payment's customer reference, description and metadata are stored encrypted
// (src/crypto/column-cipher.ts); the customer also as a blind index, so the list filter and the
// velocity rule find a customer's payments without decrypting every row.

export interface PaymentSecrets {
  customer: string | null;
  description: string | null;
  metadata: unknown;
}

export interface SealedPaymentSecrets {
  customer: string | null;
  customerIndex: string | null;
  description: string | null;
  /** The JSON string the jsonb column keeps. */
  metadata: string | null;
}

export function sealPaymentSecrets(cipher: ColumnCipher, secrets: PaymentSecrets): SealedPaymentSecrets {
  return {
    customer: cipher.sealNullable('payments.customer', secrets.customer),
    customerIndex: secrets.customer === null ? null : cipher.index('payments.customer', secrets.customer),
    description: cipher.sealNullable('payments.description', secrets.description),
    metadata: cipher.sealJson('payments.metadata', secrets.metadata),
  };
}

/** A payments row (or anything with its columns) with those three readable again. */
export function openPaymentSecrets<T extends PaymentSecrets>(cipher: ColumnCipher, row: T): T {
  return {
    ...row,
    customer: cipher.openNullable('payments.customer', row.customer),
    description: cipher.openNullable('payments.description', row.description),
    metadata: cipher.openJson('payments.metadata', row.metadata),
  };
}
