-- Sensitive columns are encrypted by the application with ENCRYPTION_KEYS (src/crypto/column-cipher.ts):
-- payments.customer, description and metadata, webhook_endpoints.secret hold `enc:v1:<key id>:<base64>`
-- (metadata as a JSON string). SQL cannot encrypt: rows written before this migration stay
-- plaintext, are read as they are, and are encrypted by `npm run keys:rotate`
-- (src/crypto/rotate-columns.ts; npm start runs it at every start).

-- A customer is found by its keyed hash; ciphertext cannot be compared or indexed.
ALTER TABLE "payments" ADD COLUMN "customer_index" TEXT;

DROP INDEX "payments_merchant_id_customer_created_at_idx";

CREATE INDEX "payments_merchant_id_customer_index_created_at_idx" ON "payments"("merchant_id", "customer_index", "created_at");
