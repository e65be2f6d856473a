-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "merchants" (
    "id" TEXT NOT NULL,
    "name" TEXT,
    "api_key_hash" TEXT NOT NULL,
    "api_key_prefix" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "merchants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "accounts" (
    "id" TEXT NOT NULL,
    "merchant_id" TEXT,
    "type" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "balance" BIGINT NOT NULL DEFAULT 0,
    "held" BIGINT NOT NULL DEFAULT 0,
    "allow_negative" BOOLEAN NOT NULL DEFAULT false,
    "reference" TEXT,
    "version" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_transactions" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "reference" TEXT,
    "idempotency_key" TEXT NOT NULL,
    "metadata" JSONB,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_transactions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_entries" (
    "id" TEXT NOT NULL,
    "transaction_id" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "balance_after" BIGINT NOT NULL,
    "sequence" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "holds" (
    "id" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "reference" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "holds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deposits" (
    "id" TEXT NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "reference" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "transaction_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "deposits_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "merchant_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "response_status" INTEGER,
    "response_body" JSONB,
    "locked_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(6),

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("merchant_id","key")
);

-- CreateIndex
CREATE UNIQUE INDEX "merchants_api_key_hash_key" ON "merchants"("api_key_hash");

-- CreateIndex
CREATE INDEX "accounts_merchant_id_created_at_idx" ON "accounts"("merchant_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "accounts_id_currency_key" ON "accounts"("id", "currency");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_transactions_idempotency_key_key" ON "ledger_transactions"("idempotency_key");

-- CreateIndex
CREATE INDEX "ledger_transactions_reference_idx" ON "ledger_transactions"("reference");

-- CreateIndex
CREATE INDEX "ledger_entries_transaction_id_idx" ON "ledger_entries"("transaction_id");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entries_account_id_sequence_key" ON "ledger_entries"("account_id", "sequence");

-- CreateIndex
CREATE UNIQUE INDEX "holds_reference_key" ON "holds"("reference");

-- CreateIndex
CREATE INDEX "holds_account_id_status_idx" ON "holds"("account_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "deposits_transaction_id_key" ON "deposits"("transaction_id");

-- CreateIndex
CREATE INDEX "deposits_account_id_created_at_idx" ON "deposits"("account_id", "created_at");

-- CreateIndex
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys"("created_at");

-- AddForeignKey
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_transaction_id_fkey" FOREIGN KEY ("transaction_id") REFERENCES "ledger_transactions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_account_id_currency_fkey" FOREIGN KEY ("account_id", "currency") REFERENCES "accounts"("id", "currency") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "holds" ADD CONSTRAINT "holds_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deposits" ADD CONSTRAINT "deposits_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deposits" ADD CONSTRAINT "deposits_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------
-- Hand-written: what Prisma's schema language cannot express.
-- ---------------------------------------------------------------------------

-- An account never shows more held than it has, unless it is a system account
-- (external_funding, provider_clearing) that stands for money outside the platform.
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_available_check" CHECK ("allow_negative" OR "balance" - "held" >= 0);
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_held_check" CHECK ("held" >= 0);
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_currency_check" CHECK ("currency" ~ '^[A-Z]{3}$');
ALTER TABLE "holds" ADD CONSTRAINT "holds_amount_check" CHECK ("amount" > 0);
ALTER TABLE "holds" ADD CONSTRAINT "holds_status_check" CHECK ("status" IN ('active', 'captured', 'released', 'expired'));
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_amount_check" CHECK ("amount" <> 0);
ALTER TABLE "deposits" ADD CONSTRAINT "deposits_amount_check" CHECK ("amount" > 0);

-- Entries are history: corrections are new transactions, never edits.
CREATE FUNCTION ledger_entries_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger_entries is append-only: % rejected', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON "ledger_entries"
  FOR EACH ROW EXECUTE FUNCTION ledger_entries_reject_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON "ledger_entries"
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_reject_change();

-- Checked at commit so a transaction's entries can be inserted one by one.
CREATE FUNCTION ledger_entries_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unbalanced text;
BEGIN
  SELECT currency INTO unbalanced FROM "ledger_entries"
   WHERE transaction_id = NEW.transaction_id
   GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger transaction % is unbalanced in %', NEW.transaction_id, unbalanced
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON "ledger_entries"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entries_check_balanced();

-- Posts one balanced ledger transaction in a single round trip: idempotent by key, locks
-- the touched accounts in id order (so opposite transfers cannot deadlock), applies each
-- entry, records balance_after. A replay with a known key returns the first transaction
-- and writes nothing. Raises 'insufficient_funds' (SQLSTATE P0001, DETAIL = account id).
CREATE FUNCTION ledger_post(
  p_transaction_id text,
  p_kind text,
  p_reference text,
  p_idempotency_key text,
  p_metadata jsonb,
  p_entry_ids text[],
  p_account_ids text[],
  p_amounts bigint[]
) RETURNS TABLE (transaction_id text, replayed boolean) LANGUAGE plpgsql AS $$
DECLARE
  n int := coalesce(array_length(p_account_ids, 1), 0);
  existing_id text;
  acct record;
  i int;
BEGIN
  IF n < 2 OR n <> array_length(p_amounts, 1) OR n <> array_length(p_entry_ids, 1) THEN
    RAISE EXCEPTION 'invalid_posting' USING ERRCODE = 'P0001', DETAIL = 'at least two entries, arrays of equal length';
  END IF;

  INSERT INTO "ledger_transactions" (id, kind, reference, idempotency_key, metadata)
  VALUES (p_transaction_id, p_kind, p_reference, p_idempotency_key, p_metadata)
  ON CONFLICT (idempotency_key) DO NOTHING;
  IF NOT FOUND THEN
    SELECT t.id INTO existing_id FROM "ledger_transactions" t WHERE t.idempotency_key = p_idempotency_key;
    RETURN QUERY SELECT existing_id, true;
    RETURN;
  END IF;

  PERFORM 1 FROM "accounts" a WHERE a.id = ANY (p_account_ids) ORDER BY a.id FOR UPDATE;

  FOR i IN 1..n LOOP
    IF p_amounts[i] = 0 THEN
      RAISE EXCEPTION 'invalid_posting' USING ERRCODE = 'P0001', DETAIL = 'zero amount';
    END IF;
    UPDATE "accounts" a
       SET balance = a.balance + p_amounts[i], version = a.version + 1, updated_at = now()
     WHERE a.id = p_account_ids[i]
     RETURNING a.id, a.currency, a.balance, a.held, a.allow_negative, a.version INTO acct;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'account_not_found' USING ERRCODE = 'P0001', DETAIL = p_account_ids[i];
    END IF;
    IF NOT acct.allow_negative AND acct.balance - acct.held < 0 THEN
      RAISE EXCEPTION 'insufficient_funds' USING ERRCODE = 'P0001', DETAIL = acct.id;
    END IF;
    INSERT INTO "ledger_entries" (id, transaction_id, account_id, amount, currency, balance_after, sequence)
    VALUES (p_entry_ids[i], p_transaction_id, acct.id, p_amounts[i], acct.currency, acct.balance, acct.version);
  END LOOP;

  RETURN QUERY SELECT p_transaction_id, false;
END;
$$;
