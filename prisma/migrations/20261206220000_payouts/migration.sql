-- AlterTable
ALTER TABLE "merchants" ADD COLUMN     "payout_minimum_minor" BIGINT,
ADD COLUMN     "payout_schedule" TEXT;

-- AlterTable
ALTER TABLE "webhook_events" ADD COLUMN     "payout_id" TEXT;

-- CreateTable
CREATE TABLE "payouts" (
    "id" TEXT NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "status" TEXT NOT NULL,
    "automatic" BOOLEAN NOT NULL DEFAULT false,
    "description" TEXT,
    "provider" TEXT NOT NULL,
    "provider_payout_id" TEXT,
    "failure_code" TEXT,
    "failure_message" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payouts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "payouts_merchant_id_created_at_idx" ON "payouts"("merchant_id", "created_at");

-- CreateIndex
CREATE INDEX "payouts_merchant_id_status_created_at_idx" ON "payouts"("merchant_id", "status", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "payouts_provider_provider_payout_id_key" ON "payouts"("provider", "provider_payout_id");

-- AddForeignKey
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------
-- Hand-written: what a payout and a merchant's payout settings can be.
-- ---------------------------------------------------------------------------

ALTER TABLE "payouts" ADD CONSTRAINT "payouts_amount_check" CHECK ("amount" > 0);
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_status_check"
  CHECK ("status" IN ('pending', 'in_transit', 'paid', 'failed'));
-- A payout the provider accepted names the provider's payout; a failed one says why.
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_provider_payout_check"
  CHECK ("status" NOT IN ('in_transit', 'paid') OR "provider_payout_id" IS NOT NULL);
ALTER TABLE "payouts" ADD CONSTRAINT "payouts_failure_check"
  CHECK (("status" = 'failed') = ("failure_code" IS NOT NULL));

ALTER TABLE "merchants" ADD CONSTRAINT "merchants_payout_schedule_check"
  CHECK ("payout_schedule" IS NULL OR "payout_schedule" IN ('daily', 'weekly', 'manual'));
ALTER TABLE "merchants" ADD CONSTRAINT "merchants_payout_minimum_check"
  CHECK ("payout_minimum_minor" IS NULL OR "payout_minimum_minor" > 0);
