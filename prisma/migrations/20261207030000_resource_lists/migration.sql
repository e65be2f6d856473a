-- Issue 13, complete resources: an account carries the merchant's description and metadata
-- (POST /v1/accounts/:id), and the new lists page a merchant's deposits and, for operators,
-- the merchants by (created_at, id) without sorting the table.

-- AlterTable
ALTER TABLE "accounts" ADD COLUMN "description" TEXT,
ADD COLUMN "metadata" JSONB;

-- CreateIndex
CREATE INDEX "deposits_merchant_id_created_at_idx" ON "deposits"("merchant_id", "created_at");

-- CreateIndex
CREATE INDEX "merchants_created_at_idx" ON "merchants"("created_at");
