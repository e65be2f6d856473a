-- ---------------------------------------------------------------------------
-- Hand-written: the import's writes without per-row foreign-key triggers, and time-ordered ids
-- (issue 10).
-- ---------------------------------------------------------------------------

-- 1. References checked once per statement, not once per row.
--
-- A foreign key is checked by a row-level trigger that runs a locking query per inserted row.
-- For the import that was two per ledger entry, one per recorded payment and one per event:
-- measured on a 5,000-payment batch, ledger_post_many took 1,100 ms of PostgreSQL CPU with the
-- two foreign keys of ledger_entries and 400 ms without. The same guarantee, cheaper: each
-- child table gets a statement-level AFTER INSERT trigger that looks up the parents of all the
-- statement's rows at once (its transition table) and refuses the statement if one is missing
-- (SQLSTATE 23503, as the foreign key did); and the parents can no longer lose a key: accounts,
-- ledger transactions and merchants are never deleted, truncated or re-keyed (they never were;
-- now triggers say so), so a parent found at insert stays. The foreign key's row lock on the
-- parent only guarded against a concurrent delete, which cannot happen any more.
-- The Prisma schema keeps the relations (its queries join through them); the constraints are
-- these triggers.

ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_transaction_id_fkey";
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_account_id_currency_fkey";
ALTER TABLE "recorded_payments" DROP CONSTRAINT "recorded_payments_account_merchant_fkey";
ALTER TABLE "events" DROP CONSTRAINT "events_merchant_id_fkey";

-- Index probes, one per row: never a scan of the (large) parent table, whatever the planner
-- guesses about a transition table.
CREATE FUNCTION ledger_entries_check_statement_references() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  missing record;
BEGIN
  SELECT e.transaction_id INTO missing FROM new_entries e
   WHERE NOT EXISTS (SELECT 1 FROM "ledger_transactions" t WHERE t.id = e.transaction_id) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger entry refers to transaction %, which does not exist', missing.transaction_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  SELECT e.account_id, e.currency INTO missing FROM new_entries e
   WHERE NOT EXISTS (SELECT 1 FROM "accounts" a WHERE a.id = e.account_id AND a.currency = e.currency) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger entry refers to account % in %, which does not exist', missing.account_id, missing.currency
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER ledger_entries_references AFTER INSERT ON "ledger_entries"
  REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_check_statement_references();

-- A record's account must exist in the record's currency and belong to the record's merchant.
CREATE FUNCTION recorded_payments_check_statement_references() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  missing record;
BEGIN
  SELECT r.account_id, r.currency, r.merchant_id INTO missing FROM new_records r
   WHERE NOT EXISTS (SELECT 1 FROM "accounts" a
                      WHERE a.id = r.account_id AND a.currency = r.currency AND a.merchant_id = r.merchant_id) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'recorded payment refers to account % in % of merchant %, which does not exist',
      missing.account_id, missing.currency, missing.merchant_id USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER recorded_payments_references AFTER INSERT ON "recorded_payments"
  REFERENCING NEW TABLE AS new_records
  FOR EACH STATEMENT EXECUTE FUNCTION recorded_payments_check_statement_references();

CREATE FUNCTION events_check_statement_references() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  missing text;
BEGIN
  -- As the foreign key did, a NULL merchant refers to nothing and is not checked here.
  SELECT e.merchant_id INTO missing FROM new_events e
   WHERE e.merchant_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "merchants" m WHERE m.id = e.merchant_id) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'event refers to merchant %, which does not exist', missing USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER events_references AFTER INSERT ON "events"
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION events_check_statement_references();

-- The parents keep their keys for ever.
CREATE FUNCTION reject_parent_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% of % rejected: ledger entries, recorded payments and events refer to its rows', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END;
$$;
-- Ledger transactions are history, like their entries.
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON "ledger_transactions"
  FOR EACH ROW EXECUTE FUNCTION reject_parent_key_change();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON "ledger_transactions"
  FOR EACH STATEMENT EXECUTE FUNCTION reject_parent_key_change();
-- Accounts are closed, never deleted; balances change, keys do not. `UPDATE OF` keeps the
-- trigger off the balance updates that never name these columns.
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON "accounts"
  FOR EACH ROW EXECUTE FUNCTION reject_parent_key_change();
CREATE TRIGGER accounts_keys_fixed BEFORE UPDATE OF id, currency, merchant_id ON "accounts"
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.currency IS DISTINCT FROM NEW.currency
                     OR OLD.merchant_id IS DISTINCT FROM NEW.merchant_id)
  EXECUTE FUNCTION reject_parent_key_change();
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON "accounts"
  FOR EACH STATEMENT EXECUTE FUNCTION reject_parent_key_change();
CREATE TRIGGER merchants_no_delete BEFORE DELETE ON "merchants"
  FOR EACH ROW EXECUTE FUNCTION reject_parent_key_change();
CREATE TRIGGER merchants_key_fixed BEFORE UPDATE OF id ON "merchants"
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION reject_parent_key_change();
CREATE TRIGGER merchants_no_truncate BEFORE TRUNCATE ON "merchants"
  FOR EACH STATEMENT EXECUTE FUNCTION reject_parent_key_change();

-- 2. Time-ordered ids.
--
-- An id is its prefix, then 8 base62 characters of the milliseconds since 1970 (UTC), then 14
-- random base62 characters (about 80 bits: still unguessable across merchants); 22 after the
-- prefix as before, same alphabet. Random ids sent every insert into each id index to a random
-- page: across a million imported payments the dozen indexes keyed by them outgrew the cache
-- and a 5,000-row batch slowed from 1.0 to 1.8 s. Time-ordered ids append near the right
-- edge of those indexes, on pages already in memory. The application makes the same form
-- (src/ids.ts; an integration test holds the two equal). The creation time is readable from an
-- id, as from ULIDs or KSUIDs; nothing else is.
CREATE FUNCTION id_time_part(p_at timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT string_agg(substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', ((ms / p) % 62)::int + 1, 1),
                    '' ORDER BY p DESC)
    FROM (SELECT floor(extract(epoch FROM p_at) * 1000)::bigint AS ms) t,
         unnest('{3521614606208,56800235584,916132832,14776336,238328,3844,62,1}'::bigint[]) p
$$;

CREATE FUNCTION id_random_part() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT substr(translate(encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'), '+/=', ''), 1, 14)
$$;

CREATE OR REPLACE FUNCTION new_id(p_prefix text) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT p_prefix || '_' || id_time_part(clock_timestamp()) || id_random_part()
$$;

-- 3. Running balances summed as bigint (sum(bigint) is numeric, slower, and was cast back on
-- insert). int8pl raises on overflow, as the cast did.
CREATE AGGREGATE ledger_running_sum(bigint) (SFUNC = int8pl, STYPE = bigint, PARALLEL = SAFE);

-- Same contract as in 20261206110000. The entries' running sums are ledger_running_sum, and
-- their transaction ids come from a join instead of an array subscript.
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
      SELECT x.entry_id, tx.id AS transaction_id, x.account_id, x.amount, a.currency,
             a.balance + ledger_running_sum(x.amount) OVER w AS balance_after,
             a.version + row_number() OVER w AS sequence,
             a.allow_negative, a.held, a.merchant_id
        FROM unnest(p_entry_transactions, p_entry_ids, p_entry_account_ids, p_entry_amounts) WITH ORDINALITY
             AS x(t, entry_id, account_id, amount, ord)
        -- A join, not p_transaction_ids[x.t]: subscripting an array of text walks it from the
        -- start every time (quadratic: about 100 ms for a 5,000-transaction call).
        JOIN unnest(p_transaction_ids) WITH ORDINALITY AS tx(id, t) ON tx.t = x.t
        JOIN "accounts" a ON a.id = x.account_id
       WHERE (all_fresh OR tx.id IN (SELECT unnest(fresh)))
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

-- 4. record_staged_batch: same contract as in 20261206093000, with three changes.
-- * An upper bound, p_until_id (NULL: none): the batch takes unprocessed rows with
--   p_after_id < id <= p_until_id, so that batches planned over disjoint ranges can run at once
--   (src/domain/batch-window.ts). Two batches at once never deadlock: their staged rows are
--   disjoint, both claim references in (merchant, reference) order, and both lock accounts in
--   id order, last.
-- * It also writes the batch's payment_record.created events (the caller did, right after).
-- * The ledger posting comes last, so the account locks it takes (external_funding's among
--   them, shared by every batch and deposit in the currency) are held from there to commit
--   only, not while the batch's other rows are written.
-- Its ids share the batch's time part (one clock reading per batch, not one per id), and the
-- candidates get theirs as the batch is read (no second pass).
DROP FUNCTION record_staged_batch(text, bigint, int, bigint, timestamptz, interval, text[]);
CREATE FUNCTION record_staged_batch(
  p_run_id text,
  p_after_id bigint,
  p_batch_size int,
  p_max_amount bigint,
  p_oldest_paid_at timestamptz,
  p_reference_retention interval,
  p_merchant_ids text[],
  p_until_id bigint
) RETURNS TABLE (batch_start_id bigint, batch_end_id bigint, row_count int, recorded int, duplicates int, invalid int, replayed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  started timestamptz := clock_timestamp();
  batch_id text := p_run_id || ':' || p_after_id;
  id_time text := id_time_part(started);
  done record;
  v_start bigint;
  v_end bigint;
  v_rows int;
  v_recorded int;
  v_duplicates int;
  v_invalid int;
  ledger record;
BEGIN
  IF p_batch_size < 1 THEN
    RAISE EXCEPTION 'invalid_batch' USING ERRCODE = 'P0001', DETAIL = 'batch size must be positive';
  END IF;
  INSERT INTO "import_runs" (id, kind, status) VALUES (p_run_id, 'run', 'running') ON CONFLICT DO NOTHING;
  INSERT INTO "import_runs" (id, kind, run_id, after_id, status, started_at)
  VALUES (batch_id, 'batch', p_run_id, p_after_id, 'running', started) ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    SELECT * INTO done FROM "import_runs" r WHERE r.run_id = p_run_id AND r.after_id = p_after_id;
    RETURN QUERY SELECT done.batch_start_id, done.batch_end_id, done."rows", done.recorded, done.duplicates, done.invalid, true;
    RETURN;
  END IF;

  -- The first valid row of each (merchant, reference) in the batch is its candidate and gets
  -- the ids it will be recorded under if its claim succeeds.
  CREATE TEMPORARY TABLE staged_batch ON COMMIT DROP AS
  SELECT c.id, c.merchant_id, c.reference_number, c.account_reference, c.customer_reference, c.amount, c.currency,
         c.paid_at, c.channel, c.metadata, c.account_id, c.invalid_reason,
         CASE WHEN c.candidate THEN 'rec_' || id_time || id_random_part() END AS record_id,
         CASE WHEN c.candidate THEN 'txn_' || id_time || id_random_part() END AS transaction_id,
         NULL::text AS outcome
    FROM (
      SELECT v.*,
             -- Valid rows sort first within a reference: a valid row after an invalid one of
             -- the same reference is still its candidate.
             v.invalid_reason IS NULL
               AND row_number() OVER (PARTITION BY v.merchant_id, v.reference_number
                                      ORDER BY v.invalid_reason IS NOT NULL, v.id) = 1 AS candidate
        FROM (
          SELECT s.id, s.merchant_id, s.reference_number, s.account_reference, s.customer_reference,
                 s.amount_minor AS amount, s.currency, s.paid_at, s.channel, s.metadata, a.id AS account_id,
                 CASE
                   WHEN m.id IS NULL THEN 'unknown_merchant'
                   WHEN btrim(s.reference_number) = '' THEN 'missing_reference'
                   WHEN a.id IS NULL THEN 'unknown_account'
                   WHEN a.currency <> s.currency THEN 'currency_mismatch'
                   WHEN s.amount_minor <= 0 THEN 'non_positive_amount'
                   WHEN s.amount_minor > p_max_amount THEN 'amount_over_limit'
                   -- Five minutes of clock skew between the ETL's host and ours are tolerated.
                   WHEN s.paid_at IS NULL OR s.paid_at > started + interval '5 minutes' OR s.paid_at < p_oldest_paid_at THEN 'bad_paid_at'
                 END AS invalid_reason
            FROM (SELECT * FROM "payment_staging" ps
                   WHERE ps.id > p_after_id AND (p_until_id IS NULL OR ps.id <= p_until_id)
                     AND ps.processed_at IS NULL
                     AND (p_merchant_ids IS NULL OR ps.merchant_id = ANY (p_merchant_ids))
                   ORDER BY ps.id LIMIT p_batch_size FOR UPDATE) s
            LEFT JOIN "merchants" m ON m.id = s.merchant_id
            LEFT JOIN "accounts" a ON a.merchant_id = s.merchant_id AND a.external_reference = s.account_reference
        ) v
    ) c;

  SELECT min(b.id), max(b.id), count(*) INTO v_start, v_end, v_rows FROM staged_batch b;
  IF v_rows = 0 THEN
    DELETE FROM "import_runs" WHERE id = batch_id;
    RETURN QUERY SELECT NULL::bigint, NULL::bigint, 0, 0, 0, 0, false;
    RETURN;
  END IF;

  WITH claimed AS (
    INSERT INTO "payment_references" (merchant_id, reference, recorded_payment_id, source, recorded_at, created_at, expires_at)
    SELECT b.merchant_id, b.reference_number, b.record_id, 'staging', now(), now(), now() + p_reference_retention
      FROM staged_batch b WHERE b.record_id IS NOT NULL
     ORDER BY b.merchant_id, b.reference_number
    ON CONFLICT DO NOTHING
    RETURNING recorded_payment_id
  )
  UPDATE staged_batch b SET outcome = 'recorded' FROM claimed c WHERE c.recorded_payment_id = b.record_id;

  -- Everything valid and not recorded now was claimed before: by an earlier row of this batch,
  -- an earlier batch or the webhook. Its detail names the payment that holds the reference.
  UPDATE staged_batch b SET outcome = 'duplicate', record_id = r.recorded_payment_id, transaction_id = NULL
    FROM "payment_references" r
   WHERE b.outcome IS NULL AND b.invalid_reason IS NULL
     AND r.merchant_id = b.merchant_id AND r.reference = b.reference_number;
  UPDATE staged_batch b SET outcome = 'invalid: ' || b.invalid_reason WHERE b.invalid_reason IS NOT NULL;
  IF EXISTS (SELECT 1 FROM staged_batch b WHERE b.outcome IS NULL) THEN
    -- A reference claimed and gone again in between (a retention purge): try the batch again.
    RAISE EXCEPTION 'record_batch_unresolved' USING ERRCODE = '40001';
  END IF;

  PERFORM recorded_payments_ensure_partitions(min(b.paid_at), max(b.paid_at))
     FROM staged_batch b WHERE b.outcome = 'recorded' HAVING count(*) > 0;
  INSERT INTO "accounts" (id, merchant_id, type, currency, allow_negative)
  SELECT DISTINCT 'acct_sys_external_funding_' || lower(b.currency), NULL::text, 'external_funding', b.currency, true
    FROM staged_batch b WHERE b.outcome = 'recorded'
  ON CONFLICT DO NOTHING;

  INSERT INTO "recorded_payments" (id, merchant_id, account_id, reference_number, account_reference, customer_reference,
                                   amount, currency, paid_at, channel, metadata, source, staging_id, transaction_id, created_at)
  SELECT b.record_id, b.merchant_id, b.account_id, b.reference_number, b.account_reference, b.customer_reference,
         b.amount, b.currency, b.paid_at, b.channel, b.metadata, 'staging', b.id, b.transaction_id, now()
    FROM staged_batch b WHERE b.outcome = 'recorded' ORDER BY b.id;

  -- The outbox: payment_record_json is the public shape (its migration, 20261206120000).
  INSERT INTO "events" (id, merchant_id, type, resource_id, data, source_key)
  SELECT 'evt_' || id_time || id_random_part(), b.merchant_id, 'payment_record.created', b.record_id,
         payment_record_json(b.record_id, b.reference_number, b.account_id, b.account_reference, b.customer_reference,
           b.amount, b.currency, b.paid_at, b.channel, b.metadata, 'staging', b.transaction_id, now()),
         'payment_record:' || b.record_id || ':created'
    FROM staged_batch b WHERE b.outcome = 'recorded' ORDER BY b.id
  ON CONFLICT DO NOTHING;

  UPDATE "payment_staging" s
     SET processed_at = now(), outcome = b.outcome,
         outcome_detail = CASE b.invalid_reason
           WHEN 'unknown_merchant' THEN 'No merchant has this id.'
           WHEN 'missing_reference' THEN 'The reference number is empty.'
           WHEN 'unknown_account' THEN 'The merchant has no account with this external reference.'
           WHEN 'currency_mismatch' THEN 'The currency is not the account''s (' || (SELECT a.currency FROM "accounts" a WHERE a.id = b.account_id) || ').'
           WHEN 'non_positive_amount' THEN 'The amount must be positive.'
           WHEN 'amount_over_limit' THEN 'The amount is over the limit of ' || p_max_amount || ' minor units.'
           WHEN 'bad_paid_at' THEN 'paid_at is missing, in the future, or older than the oldest accepted (' || p_oldest_paid_at || ').'
           ELSE b.record_id
         END
    FROM staged_batch b WHERE s.id = b.id;

  SELECT count(*) FILTER (WHERE b.outcome = 'recorded'), count(*) FILTER (WHERE b.outcome = 'duplicate'),
         count(*) FILTER (WHERE b.invalid_reason IS NOT NULL)
    INTO v_recorded, v_duplicates, v_invalid FROM staged_batch b;

  -- Last: the posting, which locks the accounts until commit.
  WITH r AS (
    SELECT row_number() OVER (ORDER BY b.id)::int AS k, b.* FROM staged_batch b WHERE b.outcome = 'recorded'
  ), e AS (
    SELECT r.k, 1 AS side, 'acct_sys_external_funding_' || lower(r.currency) AS account_id, -r.amount AS amount FROM r
    UNION ALL
    SELECT r.k, 2 AS side, r.account_id, r.amount FROM r
  )
  SELECT (SELECT array_agg(r.transaction_id ORDER BY r.k) FROM r) AS transaction_ids,
         (SELECT array_agg(r.record_id ORDER BY r.k) FROM r) AS refs,
         (SELECT array_agg('payment_record:' || r.record_id ORDER BY r.k) FROM r) AS keys,
         (SELECT array_agg(e.k ORDER BY e.k, e.side) FROM e) AS entry_transactions,
         (SELECT array_agg('ent_' || id_time || id_random_part() ORDER BY e.k, e.side) FROM e) AS entry_ids,
         (SELECT array_agg(e.account_id ORDER BY e.k, e.side) FROM e) AS entry_accounts,
         (SELECT array_agg(e.amount ORDER BY e.k, e.side) FROM e) AS entry_amounts
    INTO ledger;
  PERFORM 1 FROM ledger_post_many(ledger.transaction_ids, 'payment_record', ledger.refs, ledger.keys,
                                  ledger.entry_transactions, ledger.entry_ids, ledger.entry_accounts, ledger.entry_amounts);

  UPDATE "import_runs" r
     SET batch_start_id = v_start, batch_end_id = v_end, "rows" = v_rows, recorded = v_recorded,
         duplicates = v_duplicates, invalid = v_invalid, status = 'succeeded', finished_at = clock_timestamp(),
         duration_ms = (extract(epoch FROM clock_timestamp() - started) * 1000)::int
   WHERE r.id = batch_id;
  UPDATE "import_runs" r
     SET batches = r.batches + 1, "rows" = r."rows" + v_rows, recorded = r.recorded + v_recorded,
         duplicates = r.duplicates + v_duplicates, invalid = r.invalid + v_invalid,
         batch_start_id = coalesce(r.batch_start_id, v_start), batch_end_id = v_end,
         duration_ms = coalesce(r.duration_ms, 0) + (extract(epoch FROM clock_timestamp() - started) * 1000)::int
   WHERE r.id = p_run_id;
  RETURN QUERY SELECT v_start, v_end, v_rows, v_recorded, v_duplicates, v_invalid, false;
END;
$$;
