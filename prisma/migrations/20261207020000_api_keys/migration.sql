-- CreateTable
CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "name" TEXT,
    "key_hash" TEXT NOT NULL,
    "key_prefix" TEXT NOT NULL,
    "rolled_to_id" TEXT,
    "expires_at" TIMESTAMPTZ(6),
    "revoked_at" TIMESTAMPTZ(6),
    "last_used_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_merchant_id_created_at_idx" ON "api_keys"("merchant_id", "created_at");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------
-- Hand-written: every existing merchant's one key becomes its first row here (same hash, so
-- the key keeps working), before the merchants' own key columns go.
-- ---------------------------------------------------------------------------

INSERT INTO "api_keys" ("id", "merchant_id", "name", "key_hash", "key_prefix", "created_at")
SELECT new_id('ak'), "id", 'default', "api_key_hash", "api_key_prefix", "created_at" FROM "merchants";

-- DropIndex
DROP INDEX "merchants_api_key_hash_key";

-- AlterTable
ALTER TABLE "merchants" DROP COLUMN "api_key_hash",
DROP COLUMN "api_key_prefix";

-- A rolled key always has the end of its grace window, and names a key that exists.
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_rolled_check"
  CHECK ("rolled_to_id" IS NULL OR "expires_at" IS NOT NULL);
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_rolled_to_fkey"
  FOREIGN KEY ("rolled_to_id") REFERENCES "api_keys"("id") ON DELETE RESTRICT;
