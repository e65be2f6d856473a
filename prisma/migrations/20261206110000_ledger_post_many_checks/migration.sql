-- ---------------------------------------------------------------------------
-- Hand-written: ledger_post_many without per-batch quadratic work (issue 10).
-- ---------------------------------------------------------------------------

-- Same contract as before. What changed is how:
-- * The funds and range checks read the entries as they are computed (one pass over the rows
--   being inserted) instead of re-reading ledger_entries by `transaction_id = ANY (fresh)`.
--   With thousands of transactions that test is linear in the array per row, and once
--   PL/pgSQL switched to a generic plan (from the sixth call in a session) it became a
--   sequential scan of all of ledger_entries: 4 to 8 s per 5,000-row import batch, growing.
-- * Membership in `fresh` (transactions written now, not replayed) is a hashed set lookup,
--   not `= ANY (array)` per row (4,700 × 4,700 comparisons per batch for the answer alone).
-- * plan_cache_mode = force_custom_plan: every statement here runs once per call over
--   arrays whose sizes only the call knows; a generic plan cannot see them.
CREATE OR REPLACE FUNCTION ledger_post_many(
  p_transaction_ids text[],
  p_kind text,
  p_references text[],
  p_idempotency_keys text[],
  p_entry_transactions int[],
  p_entry_ids text[],
  p_entry_account_ids text[],
  p_entry_amounts bigint[]
) RETURNS TABLE (transaction_id text, replayed boolean) LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
  n int := coalesce(array_length(p_transaction_ids, 1), 0);
  m int := coalesce(array_length(p_entry_ids, 1), 0);
  fresh text[];
  -- The usual case (no key seen before) skips the per-entry membership test.
  all_fresh boolean;
  applied_at timestamptz;
  bad text;
  bad_funds text;
  bad_range text;
BEGIN
  IF n = 0 THEN
    RETURN;
  END IF;
  IF coalesce(array_length(p_references, 1), 0) <> n OR coalesce(array_length(p_idempotency_keys, 1), 0) <> n
     OR m < 2 * n OR coalesce(array_length(p_entry_transactions, 1), 0) <> m
     OR coalesce(array_length(p_entry_account_ids, 1), 0) <> m OR coalesce(array_length(p_entry_amounts, 1), 0) <> m THEN
    RAISE EXCEPTION 'invalid_posting' USING ERRCODE = 'P0001', DETAIL = 'arrays of matching lengths, at least two entries per transaction';
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(p_entry_amounts) a WHERE a IS NULL OR a = 0) THEN
    RAISE EXCEPTION 'invalid_posting' USING ERRCODE = 'P0001', DETAIL = 'zero amount';
  END IF;
  IF EXISTS (
    SELECT 1 FROM generate_series(1, n) t
      LEFT JOIN (SELECT x, count(*) AS c FROM unnest(p_entry_transactions) x GROUP BY x) e ON e.x = t
     WHERE coalesce(e.c, 0) < 2
  ) OR EXISTS (SELECT 1 FROM unnest(p_entry_transactions) x WHERE x IS NULL OR x < 1 OR x > n) THEN
    RAISE EXCEPTION 'invalid_posting' USING ERRCODE = 'P0001', DETAIL = 'every transaction needs at least two entries';
  END IF;

  WITH inserted AS (
    INSERT INTO "ledger_transactions" (id, kind, reference, idempotency_key)
    SELECT t.id, p_kind, t.reference, t.key
      FROM unnest(p_transaction_ids, p_references, p_idempotency_keys) WITH ORDINALITY AS t(id, reference, key, ord)
     ORDER BY t.ord
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
  )
  SELECT coalesce(array_agg(id), '{}') INTO fresh FROM inserted;

  all_fresh := cardinality(fresh) = n;
  IF cardinality(fresh) > 0 THEN
    PERFORM 1 FROM "accounts" a
     WHERE a.id IN (SELECT x.account_id FROM unnest(p_entry_transactions, p_entry_account_ids) AS x(t, account_id)
                     WHERE (all_fresh OR p_transaction_ids[x.t] IN (SELECT unnest(fresh))))
     ORDER BY a.id FOR UPDATE;

    SELECT x.account_id INTO bad
      FROM unnest(p_entry_transactions, p_entry_account_ids) AS x(t, account_id)
      LEFT JOIN "accounts" a ON a.id = x.account_id
     WHERE (all_fresh OR p_transaction_ids[x.t] IN (SELECT unnest(fresh))) AND a.id IS NULL LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'account_not_found' USING ERRCODE = 'P0001', DETAIL = bad;
    END IF;

    PERFORM 1 FROM unnest(p_entry_transactions, p_entry_account_ids, p_entry_amounts) AS x(t, account_id, amount)
      JOIN "accounts" a ON a.id = x.account_id
     WHERE (all_fresh OR p_transaction_ids[x.t] IN (SELECT unnest(fresh)))
     GROUP BY x.t, a.currency HAVING sum(x.amount) <> 0;
    IF FOUND THEN
      RAISE EXCEPTION 'currency_mismatch' USING ERRCODE = 'P0001', DETAIL = 'entries must balance per currency';
    END IF;

    -- One instant for the whole call, taken after the locks: within an account created_at
    -- never goes back as sequence grows, so "balance at t" stays well defined.
    applied_at := clock_timestamp();
    -- The entries, and in the same pass the two checks ledger_post makes after each entry: no
    -- account that may not go negative ever shows less available than zero (not even between
    -- two entries of this call), and a merchant's balance stays within the JSON-safe range.
    -- The INSERT runs in full whatever the outer SELECT reads; a failed check rolls it back.
    WITH s AS MATERIALIZED (
      SELECT x.entry_id, p_transaction_ids[x.t] AS transaction_id, x.account_id, x.amount, a.currency,
             a.balance + sum(x.amount) OVER w AS balance_after,
             a.version + row_number() OVER w AS sequence,
             a.allow_negative, a.held, a.merchant_id
        FROM unnest(p_entry_transactions, p_entry_ids, p_entry_account_ids, p_entry_amounts) WITH ORDINALITY
             AS x(t, entry_id, account_id, amount, ord)
        JOIN "accounts" a ON a.id = x.account_id
       WHERE (all_fresh OR p_transaction_ids[x.t] IN (SELECT unnest(fresh)))
      WINDOW w AS (PARTITION BY x.account_id ORDER BY x.ord ROWS UNBOUNDED PRECEDING)
    ), ins AS (
      INSERT INTO "ledger_entries" (id, transaction_id, account_id, amount, currency, balance_after, sequence, created_at)
      SELECT s.entry_id, s.transaction_id, s.account_id, s.amount, s.currency, s.balance_after, s.sequence, applied_at
        FROM s
       ORDER BY s.account_id, s.sequence
    )
    SELECT (SELECT s.account_id FROM s WHERE NOT s.allow_negative AND s.balance_after - s.held < 0 LIMIT 1),
           (SELECT s.account_id FROM s WHERE s.merchant_id IS NOT NULL
               AND s.balance_after NOT BETWEEN -9007199254740991 AND 9007199254740991 LIMIT 1)
      INTO bad_funds, bad_range;
    IF bad_funds IS NOT NULL THEN
      RAISE EXCEPTION 'insufficient_funds' USING ERRCODE = 'P0001', DETAIL = bad_funds;
    END IF;
    IF bad_range IS NOT NULL THEN
      RAISE EXCEPTION 'accounts_balance_range_check' USING ERRCODE = 'P0001', DETAIL = bad_range;
    END IF;

    UPDATE "accounts" a
       SET balance = a.balance + t.total, version = a.version + t.entries, updated_at = now()
      FROM (SELECT x.account_id, sum(x.amount) AS total, count(*) AS entries
              FROM unnest(p_entry_transactions, p_entry_account_ids, p_entry_amounts) AS x(t, account_id, amount)
             WHERE (all_fresh OR p_transaction_ids[x.t] IN (SELECT unnest(fresh)))
             GROUP BY x.account_id) t
     WHERE a.id = t.account_id;
  END IF;

  RETURN QUERY
    SELECT lt.id, f.id IS NULL
      FROM unnest(p_idempotency_keys) WITH ORDINALITY AS k(key, ord)
      JOIN "ledger_transactions" lt ON lt.idempotency_key = k.key
      LEFT JOIN unnest(fresh) AS f(id) ON f.id = lt.id
     ORDER BY k.ord;
END;
$$;

-- A batch's statements each run once per call on that batch's rows: custom plans always.
ALTER FUNCTION record_staged_batch(text, bigint, int, bigint, timestamptz, interval, text[])
  SET plan_cache_mode = force_custom_plan;
