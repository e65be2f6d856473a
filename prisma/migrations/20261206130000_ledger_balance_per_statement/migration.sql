-- ---------------------------------------------------------------------------
-- Hand-written: a ledger transaction's balance is checked per INSERT statement (issue 10).
-- ---------------------------------------------------------------------------

-- Before, a deferred constraint trigger re-summed an entry's whole transaction at commit, once
-- per entry: about 10 µs each, 100 ms for a 5,000-payment import batch. Now one statement-level
-- trigger sums the rows the statement inserted (its transition table), per transaction and
-- currency, and refuses the statement if any sum is not zero. That is at least as strong:
-- entries are append-only (no UPDATE, DELETE or TRUNCATE) and every entry arrives through
-- exactly one INSERT (or COPY, which fills transition tables too), so a transaction's sum per
-- currency is the sum of its statements' sums, each zero, at every statement's end and so at
-- commit. An unbalanced write is now refused at once instead of at commit. Its price: a
-- transaction's entries must balance within each statement that writes them. ledger_post_many
-- (and the benchmark's hand-written path) insert all entries in one statement already;
-- ledger_post, which inserted entry by entry, now collects them and inserts once.

-- Same contract and checks as before, in the same order (account lock, currencies, per-entry
-- balance, funds after each entry, created_at per entry); only the INSERT moved after the loop.
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
  entry_currencies text[] := '{}';
  entry_balances bigint[] := '{}';
  entry_sequences bigint[] := '{}';
  entry_times timestamptz[] := '{}';
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
    entry_currencies := entry_currencies || acct.currency::text;
    entry_balances := entry_balances || acct.balance;
    entry_sequences := entry_sequences || acct.version::bigint;
    entry_times := entry_times || clock_timestamp();
  END LOOP;

  -- All entries in one statement: the balance trigger below checks each statement.
  INSERT INTO "ledger_entries" (id, transaction_id, account_id, amount, currency, balance_after, sequence, created_at)
  SELECT x.id, p_transaction_id, x.account_id, x.amount, x.currency, x.balance_after, x.sequence, x.created_at
    FROM unnest(p_entry_ids, p_account_ids, p_amounts, entry_currencies, entry_balances, entry_sequences, entry_times)
         AS x(id, account_id, amount, currency, balance_after, sequence, created_at);

  RETURN QUERY SELECT p_transaction_id, false;
END;
$$;

DROP TRIGGER "ledger_entries_balanced" ON "ledger_entries";
DROP FUNCTION ledger_entries_check_balanced();

CREATE FUNCTION ledger_entries_check_statement_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unbalanced record;
BEGIN
  SELECT e.transaction_id, e.currency INTO unbalanced FROM new_entries e
   GROUP BY e.transaction_id, e.currency HAVING sum(e.amount) <> 0 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger transaction % is unbalanced in %', unbalanced.transaction_id, unbalanced.currency
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON "ledger_entries"
  REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_check_statement_balanced();
