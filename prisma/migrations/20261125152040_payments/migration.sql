-- CreateTable
CREATE TABLE "payments" (
    "id" TEXT NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "capture_method" TEXT NOT NULL,
    "amount_capturable" BIGINT NOT NULL DEFAULT 0,
    "amount_captured" BIGINT NOT NULL DEFAULT 0,
    "amount_refunded" BIGINT NOT NULL DEFAULT 0,
    "fee" BIGINT,
    "net_amount" BIGINT,
    "source_type" TEXT NOT NULL,
    "provider" TEXT,
    "provider_charge_id" TEXT,
    "card_brand" TEXT,
    "card_last4" TEXT,
    "card_fingerprint" TEXT,
    "wallet_account_id" TEXT,
    "customer" TEXT,
    "description" TEXT,
    "metadata" JSONB,
    "failure_code" TEXT,
    "failure_message" TEXT,
    "cancellation_reason" TEXT,
    "settled" BOOLEAN NOT NULL DEFAULT false,
    "version" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "refunds" (
    "id" TEXT NOT NULL,
    "payment_id" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "reason" TEXT,
    "status" TEXT NOT NULL,
    "provider_refund_id" TEXT,
    "transaction_id" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "refunds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payment_events" (
    "id" TEXT NOT NULL,
    "payment_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "payments_merchant_id_created_at_idx" ON "payments"("merchant_id", "created_at");

-- CreateIndex
CREATE INDEX "payments_merchant_id_status_created_at_idx" ON "payments"("merchant_id", "status", "created_at");

-- CreateIndex
CREATE INDEX "payments_merchant_id_customer_created_at_idx" ON "payments"("merchant_id", "customer", "created_at");

-- CreateIndex
CREATE INDEX "payments_card_fingerprint_created_at_idx" ON "payments"("card_fingerprint", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "payments_provider_provider_charge_id_key" ON "payments"("provider", "provider_charge_id");

-- CreateIndex
CREATE UNIQUE INDEX "refunds_transaction_id_key" ON "refunds"("transaction_id");

-- CreateIndex
CREATE INDEX "refunds_payment_id_created_at_idx" ON "refunds"("payment_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "payment_events_payment_id_version_key" ON "payment_events"("payment_id", "version");

-- AddForeignKey
ALTER TABLE "payments" ADD CONSTRAINT "payments_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_payment_id_fkey" FOREIGN KEY ("payment_id") REFERENCES "payments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payment_events" ADD CONSTRAINT "payment_events_payment_id_fkey" FOREIGN KEY ("payment_id") REFERENCES "payments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------
-- Hand-written: payment invariants and append-only payment history.
-- ---------------------------------------------------------------------------

ALTER TABLE "payments" ADD CONSTRAINT "payments_status_check"
  CHECK ("status" IN ('processing', 'requires_review', 'requires_capture', 'succeeded', 'failed', 'canceled'));
ALTER TABLE "payments" ADD CONSTRAINT "payments_amounts_check"
  CHECK ("amount" > 0 AND "amount_captured" <= "amount" AND "amount_refunded" <= "amount_captured"
         AND "amount_capturable" >= 0 AND "amount_capturable" <= "amount");
ALTER TABLE "payments" ADD CONSTRAINT "payments_fee_check"
  CHECK ("fee" IS NULL OR ("fee" >= 0 AND "net_amount" = "amount_captured" - "fee"));
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_amount_check" CHECK ("amount" > 0);
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_status_check" CHECK ("status" IN ('pending', 'succeeded', 'failed'));

CREATE FUNCTION payment_events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'payment_events is append-only: % rejected', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER payment_events_append_only BEFORE UPDATE OR DELETE ON "payment_events"
  FOR EACH ROW EXECUTE FUNCTION payment_events_reject_change();
