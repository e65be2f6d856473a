-- ---------------------------------------------------------------------------
-- Hand-written (issue 10): the import's cost per batch no longer grows with the tables.
--
-- Profiled with auto_explain (nested statements) over a 200,000-row import: two statements of a
-- batch scanned a whole table, so a batch got slower as the import went on (about 140 µs of
-- PostgreSQL CPU per row at 50,000 rows, 300 µs averaged over a million):
-- * record_staged_batch marked its staged rows by a join on id alone, planned as a hash of all
--   of payment_staging (150 ms of a 5,000-row batch at 200,000 rows and growing);
-- * ledger_post_many answered by joining its keys to ledger_transactions, planned as a hash of
--   all of it (230 ms at 180,000 transactions and growing).
-- Both now read only the rows at hand. Also: the posting's arrays are built in two passes, not
-- seven. Same contracts as in 20261206160000.
-- ---------------------------------------------------------------------------

-- Cheaper per row (measured over 200,000 calls each, same session):
-- * id_random_part from one UUID, not two: the 22 base64 characters of its 16 bytes with '+' and
--   '/' mapped to 'x' and 'y' (not dropped), so always 14 characters to take, still of the base62
--   alphabet and about 78 random bits (the UUID's 6 fixed version and variant bits fall in the
--   first 14). About half the time; a recorded payment takes five ids.
-- * payment_record_json in SQL, not PL/pgSQL: the planner inlines it into the import's INSERT
--   (about 15 % less time per event). Same checks: a refused amount or source raises, through
--   record_json_refused (STABLE so that it does not keep the caller from being inlined; it never
--   returns).
CREATE OR REPLACE FUNCTION id_random_part() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT substr(translate(encode(uuid_send(gen_random_uuid()), 'base64'), '+/', 'xy'), 1, 14)
$$;

CREATE FUNCTION record_json_refused(p_message text) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  RAISE EXCEPTION '%', p_message;
END;
$$;
CREATE OR REPLACE FUNCTION payment_record_json(
  p_id text, p_reference_number text, p_account_id text, p_account_reference text, p_customer_reference text,
  p_amount bigint, p_currency text, p_paid_at timestamptz, p_channel text, p_metadata jsonb, p_source text,
  p_transaction_id text, p_created_at timestamptz
) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN p_amount NOT BETWEEN -9007199254740991 AND 9007199254740991
      THEN record_json_refused('amount ' || p_amount || ' exceeds the JSON-safe range')
    WHEN p_source IS DISTINCT FROM 'staging' AND p_source IS DISTINCT FROM 'webhook'
      THEN record_json_refused('record source ' || coalesce(p_source, 'NULL') || ' is not a public one')
    ELSE jsonb_build_object(
    'id', p_id, 'object', 'payment_record', 'reference_number', p_reference_number, 'account_id', p_account_id,
    'account_reference', p_account_reference, 'customer_reference', p_customer_reference, 'amount', p_amount,
    'currency', p_currency,
    'paid_at', to_char(p_paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'channel', p_channel,
    'metadata', CASE
      WHEN p_metadata IS NULL OR jsonb_typeof(p_metadata) = 'null' THEN 'null'::jsonb
      WHEN jsonb_typeof(p_metadata) = 'object' THEN p_metadata
      ELSE jsonb_build_object('value', p_metadata)
    END,
    'source', p_source, 'transaction_id', p_transaction_id,
    'created_at', to_char(p_created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
  END
$$;

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

  -- Every key new: the answer is the ids given, none replayed. Only a call with keys seen
  -- before reads them back (its custom plan hashed the whole of ledger_transactions when the
  -- call was large, a cost that grew with the ledger).
  IF all_fresh THEN
    RETURN QUERY SELECT t.id, false FROM unnest(p_transaction_ids) WITH ORDINALITY AS t(id, ord) ORDER BY t.ord;
    RETURN;
  END IF;
  RETURN QUERY
    SELECT lt.id, f.id IS NULL
      FROM unnest(p_idempotency_keys) WITH ORDINALITY AS k(key, ord)
      JOIN "ledger_transactions" lt ON lt.idempotency_key = k.key
      LEFT JOIN unnest(fresh) AS f(id) ON f.id = lt.id
     ORDER BY k.ord;
END;
$$;

-- Stripes. The staged rows fall into p_stripes stripes by a hash of (merchant, reference), and
-- a batch takes only rows of its stripe, p_stripe (0-based; p_stripes 1: every row, as before).
-- Batches of different stripes never hold the same reference, so they run at once without
-- waiting for each other's reference claims: with consecutive id ranges instead, a batch nearly
-- always repeated a reference claimed (not yet committed) by the batch beside it, and its
-- INSERT … ON CONFLICT waited for that batch's commit, so two at once ran one after the other.
-- Measured on 100,000 staged rows, batches of 5,000: one connection 24.6 s, two connections on
-- disjoint references 11.8 s. The rows of a reference are all in one stripe and a stripe goes
-- in id order, so the first valid row of a reference is still the one recorded.
-- A batch is keyed by (run, stripe, the id it starts after).
ALTER TABLE "import_runs" ADD COLUMN "stripe" INTEGER NOT NULL DEFAULT 0;
DROP INDEX "import_runs_run_id_after_id_key";
CREATE UNIQUE INDEX "import_runs_run_id_stripe_after_id_key" ON "import_runs"("run_id", "stripe", "after_id");

DROP FUNCTION record_staged_batch(text, bigint, int, bigint, timestamptz, interval, text[], bigint);
-- The stripe of a staged row: the same for every row of a (merchant, reference).
CREATE FUNCTION staging_stripe(p_merchant_id text, p_reference text, p_stripes int) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ((hashtextextended(coalesce(p_merchant_id, '') || chr(1) || coalesce(p_reference, ''), 0)
           & 9223372036854775807) % p_stripes)::int
$$;

CREATE FUNCTION record_staged_batch(
  p_run_id text,
  p_after_id bigint,
  p_batch_size int,
  p_max_amount bigint,
  p_oldest_paid_at timestamptz,
  p_reference_retention interval,
  p_merchant_ids text[],
  p_until_id bigint,
  p_stripe int,
  p_stripes int
) RETURNS TABLE (batch_start_id bigint, batch_end_id bigint, row_count int, recorded int, duplicates int, invalid int, replayed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  started timestamptz := clock_timestamp();
  -- Unstriped batches keep the ids they had.
  batch_id text := p_run_id || CASE WHEN p_stripes = 1 THEN '' ELSE ':s' || p_stripe END || ':' || p_after_id;
  id_time text := id_time_part(started);
  done record;
  v_start bigint;
  v_end bigint;
  v_rows int;
  v_recorded int;
  v_duplicates int;
  v_invalid int;
  ledger_transaction_ids text[];
  ledger_refs text[];
  ledger_keys text[];
  ledger_entry_transactions int[];
  ledger_entry_ids text[];
  ledger_entry_accounts text[];
  ledger_entry_amounts bigint[];
BEGIN
  IF p_batch_size < 1 THEN
    RAISE EXCEPTION 'invalid_batch' USING ERRCODE = 'P0001', DETAIL = 'batch size must be positive';
  END IF;
  IF p_stripes IS NULL OR p_stripes < 1 OR p_stripe IS NULL OR p_stripe < 0 OR p_stripe >= p_stripes THEN
    RAISE EXCEPTION 'invalid_batch' USING ERRCODE = 'P0001', DETAIL = 'stripe must be in [0, stripes)';
  END IF;
  INSERT INTO "import_runs" (id, kind, status) VALUES (p_run_id, 'run', 'running') ON CONFLICT DO NOTHING;
  INSERT INTO "import_runs" (id, kind, run_id, stripe, after_id, status, started_at)
  VALUES (batch_id, 'batch', p_run_id, p_stripe, p_after_id, 'running', started) ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    SELECT * INTO done FROM "import_runs" r WHERE r.run_id = p_run_id AND r.stripe = p_stripe AND r.after_id = p_after_id;
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
                     AND (p_stripes = 1 OR staging_stripe(ps.merchant_id, ps.reference_number, p_stripes) = p_stripe)
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

  -- The outbox: payment_record_json is the public shape (its migration, 20261206120000). No ON
  -- CONFLICT: the records were claimed by this transaction just now, so their events cannot
  -- exist; one that did would be a bug, and the unique source_key refuses it loudly.
  INSERT INTO "events" (id, merchant_id, type, resource_id, data, source_key)
  SELECT 'evt_' || id_time || id_random_part(), b.merchant_id, 'payment_record.created', b.record_id,
         payment_record_json(b.record_id, b.reference_number, b.account_id, b.account_reference, b.customer_reference,
           b.amount, b.currency, b.paid_at, b.channel, b.metadata, 'staging', b.transaction_id, now()),
         'payment_record:' || b.record_id || ':created'
    FROM staged_batch b WHERE b.outcome = 'recorded' ORDER BY b.id;

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
    -- The id range lets the staged rows be found by their primary key: joined on id alone, the
    -- update hashed the whole staging table every batch (quadratic over an import).
    FROM staged_batch b WHERE s.id = b.id AND s.id BETWEEN v_start AND v_end;

  SELECT count(*) FILTER (WHERE b.outcome = 'recorded'), count(*) FILTER (WHERE b.outcome = 'duplicate'),
         count(*) FILTER (WHERE b.invalid_reason IS NOT NULL)
    INTO v_recorded, v_duplicates, v_invalid FROM staged_batch b;

  -- Last: the posting, which locks the accounts until commit.
  -- Two passes build the arrays: each SELECT's aggregates share one ORDER BY, so each input is
  -- sorted once (seven subqueries sorted seven times).
  SELECT array_agg(b.transaction_id ORDER BY b.id), array_agg(b.record_id ORDER BY b.id),
         array_agg('payment_record:' || b.record_id ORDER BY b.id)
    INTO ledger_transaction_ids, ledger_refs, ledger_keys
    FROM staged_batch b WHERE b.outcome = 'recorded';
  WITH r AS (
    SELECT row_number() OVER (ORDER BY b.id)::int AS k, b.currency, b.account_id, b.amount
      FROM staged_batch b WHERE b.outcome = 'recorded'
  )
  SELECT array_agg(e.k ORDER BY e.k, e.side), array_agg('ent_' || id_time || id_random_part() ORDER BY e.k, e.side),
         array_agg(e.account_id ORDER BY e.k, e.side), array_agg(e.amount ORDER BY e.k, e.side)
    INTO ledger_entry_transactions, ledger_entry_ids, ledger_entry_accounts, ledger_entry_amounts
    FROM (SELECT r.k, 1 AS side, 'acct_sys_external_funding_' || lower(r.currency) AS account_id, -r.amount AS amount FROM r
          UNION ALL
          SELECT r.k, 2 AS side, r.account_id, r.amount FROM r) e;
  PERFORM 1 FROM ledger_post_many(ledger_transaction_ids, 'payment_record', ledger_refs, ledger_keys,
                                  ledger_entry_transactions, ledger_entry_ids, ledger_entry_accounts, ledger_entry_amounts);

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

-- Indexes the import no longer maintains for nothing. Both served operating figures only, and
-- each now holds only the rows those figures read:
-- * the last publication on the event stream (max(published_at)): no entry for an event not yet
--   published (every event is inserted so; the import inserts a million);
-- * the webhook intake (payment_references of source 'webhook'): no entry for the import's claims.
DROP INDEX "events_published_at_idx";
CREATE INDEX "events_published_idx" ON "events" ("published_at") WHERE "published_at" IS NOT NULL;
DROP INDEX "payment_references_source_recorded_at_created_at_idx";
CREATE INDEX "payment_references_webhook_recorded_at_created_at_idx" ON "payment_references" ("recorded_at", "created_at")
  WHERE "source" = 'webhook';
