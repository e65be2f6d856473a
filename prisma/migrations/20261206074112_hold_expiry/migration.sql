-- CreateIndex
CREATE INDEX "holds_status_expires_at_idx" ON "holds"("status", "expires_at");

-- ---------------------------------------------------------------------------
-- Hand-written: holds expire.
-- ---------------------------------------------------------------------------

-- Backfill: an active transfer hold lives for the few minutes its capture is retried, so one
-- placed before expiries existed gets the default TRANSFER_HOLD_EXPIRY_MS (1 hour) from its
-- creation, and the sweep frees those a failed transfer left behind. Wallet payment holds keep
-- NULL (never expire): their payment workflow voids them at its authorization expiry, which
-- depended on AUTHORIZATION_EXPIRY_MS at the time and cannot be guessed here.
UPDATE "holds" h
   SET expires_at = h.created_at + interval '1 hour', updated_at = now()
  FROM "transfers" t
 WHERE t.id = h.reference AND h.status = 'active' AND h.expires_at IS NULL;

-- Same contract as before, plus: a hold past its expires_at cannot be captured
-- ('hold_not_active', detail 'expired'), whether or not the sweep has released it yet, so a
-- late capture never races the sweep into moving money the sweep gives back. The replay of a
-- capture that committed (same idempotency key) still answers first.
CREATE OR REPLACE FUNCTION ledger_capture_hold(
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
  IF h.expires_at IS NOT NULL AND h.expires_at <= now() THEN
    RAISE EXCEPTION 'hold_not_active' USING ERRCODE = 'P0001', DETAIL = 'expired';
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
