-- AlterTable
ALTER TABLE "events" ALTER COLUMN "merchant_id" DROP NOT NULL;

-- CreateTable
CREATE TABLE "reconciliation_runs" (
    "id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "date" DATE NOT NULL,
    "status" TEXT NOT NULL,
    "executions" INTEGER NOT NULL DEFAULT 0,
    "execution_id" TEXT,
    "provider_lines" INTEGER NOT NULL DEFAULT 0,
    "ledger_transactions" INTEGER NOT NULL DEFAULT 0,
    "matched" INTEGER NOT NULL DEFAULT 0,
    "provider_captured" BIGINT NOT NULL DEFAULT 0,
    "provider_refunded" BIGINT NOT NULL DEFAULT 0,
    "ledger_captured" BIGINT NOT NULL DEFAULT 0,
    "ledger_refunded" BIGINT NOT NULL DEFAULT 0,
    "integrity_healthy" BOOLEAN,
    "integrity_discrepancies" INTEGER,
    "error" TEXT,
    "started_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "reconciliation_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reconciliation_lines" (
    "run_id" TEXT NOT NULL,
    "line_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "charge_id" TEXT NOT NULL,
    "payment_id" TEXT,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,
    "match_key" TEXT NOT NULL,

    CONSTRAINT "reconciliation_lines_pkey" PRIMARY KEY ("run_id","line_id")
);

-- CreateTable
CREATE TABLE "reconciliation_items" (
    "id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "match_key" TEXT NOT NULL,
    "payment_id" TEXT,
    "provider_line_ids" TEXT[],
    "ledger_transaction_ids" TEXT[],
    "provider_amount" BIGINT,
    "ledger_amount" BIGINT,
    "status" TEXT NOT NULL DEFAULT 'open',
    "note" TEXT,
    "resolved_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "reconciliation_items_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "reconciliation_runs_date_id_idx" ON "reconciliation_runs"("date", "id");

-- CreateIndex
CREATE UNIQUE INDEX "reconciliation_runs_provider_currency_date_key" ON "reconciliation_runs"("provider", "currency", "date");

-- CreateIndex
CREATE INDEX "reconciliation_lines_match_key_idx" ON "reconciliation_lines"("match_key");

-- CreateIndex
CREATE INDEX "reconciliation_items_run_id_created_at_id_idx" ON "reconciliation_items"("run_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "reconciliation_items_run_id_kind_match_key_key" ON "reconciliation_items"("run_id", "kind", "match_key");

-- CreateIndex
CREATE INDEX "refunds_provider_refund_id_idx" ON "refunds"("provider_refund_id");

-- AddForeignKey
ALTER TABLE "reconciliation_lines" ADD CONSTRAINT "reconciliation_lines_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "reconciliation_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reconciliation_items" ADD CONSTRAINT "reconciliation_items_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "reconciliation_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written: what each column may hold, enforced by the database.
-- Only the platform's own events (reconciliation.*) go without a merchant. NOT VALID and then
-- VALIDATE: the check of existing rows takes no lock that holds up writers.
ALTER TABLE "events" ADD CONSTRAINT "events_platform_types_check"
  CHECK ("merchant_id" IS NOT NULL OR "type" LIKE 'reconciliation.%') NOT VALID;
ALTER TABLE "events" VALIDATE CONSTRAINT "events_platform_types_check";

ALTER TABLE "reconciliation_runs"
  ADD CONSTRAINT "reconciliation_runs_status_check" CHECK ("status" IN ('running', 'completed', 'failed')),
  ADD CONSTRAINT "reconciliation_runs_counts_check"
    CHECK ("executions" >= 0 AND "provider_lines" >= 0 AND "ledger_transactions" >= 0 AND "matched" >= 0);

ALTER TABLE "reconciliation_lines"
  ADD CONSTRAINT "reconciliation_lines_kind_check" CHECK ("kind" IN ('capture', 'refund')),
  ADD CONSTRAINT "reconciliation_lines_amount_check" CHECK ("amount" > 0);

ALTER TABLE "reconciliation_items"
  ADD CONSTRAINT "reconciliation_items_kind_check"
    CHECK ("kind" IN ('missing_in_ledger', 'missing_at_provider', 'amount_mismatch', 'duplicate')),
  ADD CONSTRAINT "reconciliation_items_subject_check" CHECK ("subject" IN ('capture', 'refund')),
  ADD CONSTRAINT "reconciliation_items_status_check" CHECK (
    ("status" = 'open' AND "resolved_at" IS NULL AND "note" IS NULL)
    OR ("status" = 'resolved' AND "resolved_at" IS NOT NULL AND "note" IS NOT NULL));
