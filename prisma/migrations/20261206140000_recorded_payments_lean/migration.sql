-- DropIndex
DROP INDEX "recorded_payments_id_idx";

-- ---------------------------------------------------------------------------
-- Hand-written: recorded_payments pays for one index and one foreign key less per row (issue 10).
-- ---------------------------------------------------------------------------

-- recorded_payments_id_idx (dropped above) duplicated the primary key (id, paid_at): id leads
-- it, so every lookup by id uses the primary key instead, and neither made id unique on its own.

-- A recorded payment names its account through (id, currency, merchant_id): its currency is its
-- account's (as before) and its merchant is its account's owner (new, and true of every row
-- both writers make). That one key also proves the merchant exists: an account's merchant_id
-- references merchants, and deleting or renumbering a merchant (SET NULL / CASCADE on
-- accounts) would change the referenced key, which this constraint refuses while the record
-- exists, as the merchant key did. So the two keys checked per row become one.
CREATE UNIQUE INDEX "accounts_id_currency_merchant_id_key" ON "accounts" ("id", "currency", "merchant_id");
ALTER TABLE "recorded_payments" ADD CONSTRAINT "recorded_payments_account_merchant_fkey"
  FOREIGN KEY ("account_id", "currency", "merchant_id") REFERENCES "accounts" ("id", "currency", "merchant_id");
ALTER TABLE "recorded_payments" DROP CONSTRAINT "recorded_payments_account_fkey";
ALTER TABLE "recorded_payments" DROP CONSTRAINT "recorded_payments_merchant_fkey";
