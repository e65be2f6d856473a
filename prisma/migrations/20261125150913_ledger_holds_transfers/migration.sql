-- AlterTable
ALTER TABLE "holds" ADD COLUMN     "captured_amount" BIGINT;

-- CreateTable
CREATE TABLE "transfers" (
    "id" TEXT NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "from_account_id" TEXT NOT NULL,
    "to_account_id" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "description" TEXT,
    "status" TEXT NOT NULL,
    "failure_code" TEXT,
    "failure_message" TEXT,
    "transaction_id" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "transfers_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "transfers_transaction_id_key" ON "transfers"("transaction_id");

-- CreateIndex
CREATE INDEX "transfers_merchant_id_created_at_idx" ON "transfers"("merchant_id", "created_at");

-- CreateIndex
CREATE INDEX "ledger_entries_account_id_created_at_idx" ON "ledger_entries"("account_id", "created_at");

-- AddForeignKey
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_merchant_id_fkey" FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------
-- Hand-written: holds, and entries stamped with the time they were applied.
-- ---------------------------------------------------------------------------

ALTER TABLE "holds" ADD CONSTRAINT "holds_captured_amount_check"
  CHECK ("captured_amount" IS NULL OR ("captured_amount" > 0 AND "captured_amount" <= "amount"));
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_amount_check" CHECK ("amount" > 0);
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_status_check" CHECK ("status" IN ('pending', 'succeeded', 'failed'));
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_accounts_check" CHECK ("from_account_id" <> "to_account_id");

-- Same contract as before, plus: mixed currencies are refused up front ('currency_mismatch'),
-- and entries carry clock_timestamp() taken after the account lock, so within an account
-- created_at follows sequence and "balance at t" is well defined.
CREATE OR REPLACE FUNCTION ledger_post(
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

  -- A wrong request (currencies mixed) is refused before any balance is looked at.
  PERFORM 1 FROM unnest(p_account_ids, p_amounts) AS x(account_id, amount)
    JOIN "accounts" a ON a.id = x.account_id
   GROUP BY a.currency HAVING sum(x.amount) <> 0;
  IF FOUND THEN
    RAISE EXCEPTION 'currency_mismatch' USING ERRCODE = 'P0001', DETAIL = 'entries must balance per currency';
  END IF;

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
    INSERT INTO "ledger_entries" (id, transaction_id, account_id, amount, currency, balance_after, sequence, created_at)
    VALUES (p_entry_ids[i], p_transaction_id, acct.id, p_amounts[i], acct.currency, acct.balance, acct.version, clock_timestamp());
  END LOOP;

  RETURN QUERY SELECT p_transaction_id, false;
END;
$$;

-- Reserves funds without moving them: held grows, available shrinks. Idempotent by
-- reference (one hold per payment or transfer). Lock order everywhere: hold, then accounts
-- in id order.
CREATE FUNCTION ledger_place_hold(
  p_hold_id text,
  p_account_id text,
  p_amount bigint,
  p_reference text,
  p_expires_at timestamptz
) RETURNS TABLE (hold_id text, replayed boolean) LANGUAGE plpgsql AS $$
DECLARE
  existing record;
  acct record;
BEGIN
  IF p_amount <= 0 THEN
    RAISE EXCEPTION 'invalid_posting' USING ERRCODE = 'P0001', DETAIL = 'hold amount must be positive';
  END IF;
  -- The account lock serializes holds on one account, so the reference check below is exact.
  PERFORM 1 FROM "accounts" a WHERE a.id = p_account_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'account_not_found' USING ERRCODE = 'P0001', DETAIL = p_account_id;
  END IF;
  SELECT h.id, h.account_id, h.amount INTO existing FROM "holds" h WHERE h.reference = p_reference;
  IF FOUND THEN
    IF existing.account_id <> p_account_id OR existing.amount <> p_amount THEN
      RAISE EXCEPTION 'hold_reference_conflict' USING ERRCODE = 'P0001', DETAIL = p_reference;
    END IF;
    RETURN QUERY SELECT existing.id, true;
    RETURN;
  END IF;
  UPDATE "accounts" a
     SET held = a.held + p_amount, version = a.version + 1, updated_at = now()
   WHERE a.id = p_account_id AND (a.allow_negative OR a.balance - a.held >= p_amount)
  RETURNING a.id INTO acct;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'insufficient_funds' USING ERRCODE = 'P0001', DETAIL = p_account_id;
  END IF;
  INSERT INTO "holds" (id, account_id, amount, reference, status, expires_at)
  VALUES (p_hold_id, p_account_id, p_amount, p_reference, 'active', p_expires_at);
  RETURN QUERY SELECT p_hold_id, false;
END;
$$;

-- Ends an active hold without moving money ('released' or 'expired'). Idempotent: ending a
-- hold again with the same status is a no-op; a captured hold cannot be released.
CREATE FUNCTION ledger_release_hold(p_reference text, p_status text)
RETURNS TABLE (hold_id text, replayed boolean) LANGUAGE plpgsql AS $$
DECLARE
  h record;
BEGIN
  IF p_status NOT IN ('released', 'expired') THEN
    RAISE EXCEPTION 'invalid_posting' USING ERRCODE = 'P0001', DETAIL = 'a hold ends released or expired';
  END IF;
  SELECT * INTO h FROM "holds" WHERE reference = p_reference FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'hold_not_found' USING ERRCODE = 'P0001', DETAIL = p_reference;
  END IF;
  IF h.status <> 'active' THEN
    IF h.status = p_status THEN
      RETURN QUERY SELECT h.id, true;
      RETURN;
    END IF;
    RAISE EXCEPTION 'hold_not_active' USING ERRCODE = 'P0001', DETAIL = h.status;
  END IF;
  UPDATE "accounts" a SET held = a.held - h.amount, version = a.version + 1, updated_at = now() WHERE a.id = h.account_id;
  UPDATE "holds" SET status = p_status, updated_at = now() WHERE id = h.id;
  RETURN QUERY SELECT h.id, false;
END;
$$;

-- Captures part or all of an active hold and posts the given entries in the same database
-- transaction; the uncaptured rest returns to available. The entries must debit the held
-- account by exactly the captured amount. Idempotent by the transaction's key.
CREATE FUNCTION ledger_capture_hold(
  p_reference text,
  p_amount bigint,
  p_transaction_id text,
  p_kind text,
  p_idempotency_key text,
  p_metadata jsonb,
  p_entry_ids text[],
  p_account_ids text[],
  p_amounts bigint[]
) RETURNS TABLE (transaction_id text, replayed boolean) LANGUAGE plpgsql AS $$
DECLARE
  h record;
  existing_id text;
  debited bigint;
BEGIN
  SELECT * INTO h FROM "holds" WHERE reference = p_reference FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'hold_not_found' USING ERRCODE = 'P0001', DETAIL = p_reference;
  END IF;
  -- Checked after the hold lock: a concurrent retry of this capture has committed by now.
  SELECT t.id INTO existing_id FROM "ledger_transactions" t WHERE t.idempotency_key = p_idempotency_key;
  IF FOUND THEN
    RETURN QUERY SELECT existing_id, true;
    RETURN;
  END IF;
  IF h.status <> 'active' THEN
    RAISE EXCEPTION 'hold_not_active' USING ERRCODE = 'P0001', DETAIL = h.status;
  END IF;
  IF p_amount <= 0 OR p_amount > h.amount THEN
    RAISE EXCEPTION 'amount_too_large' USING ERRCODE = 'P0001', DETAIL = h.amount::text;
  END IF;
  SELECT coalesce(sum(x.amount), 0) INTO debited
    FROM unnest(p_account_ids, p_amounts) AS x(account_id, amount) WHERE x.account_id = h.account_id;
  IF debited <> -p_amount THEN
    RAISE EXCEPTION 'invalid_posting' USING ERRCODE = 'P0001', DETAIL = 'entries must debit the held account by the captured amount';
  END IF;
  PERFORM 1 FROM "accounts" a WHERE a.id = ANY (p_account_ids || h.account_id) ORDER BY a.id FOR UPDATE;
  UPDATE "accounts" a SET held = a.held - h.amount, version = a.version + 1, updated_at = now() WHERE a.id = h.account_id;
  UPDATE "holds" SET status = 'captured', captured_amount = p_amount, updated_at = now() WHERE id = h.id;
  RETURN QUERY SELECT * FROM ledger_post(p_transaction_id, p_kind, p_reference, p_idempotency_key, p_metadata, p_entry_ids, p_account_ids, p_amounts);
END;
$$;
