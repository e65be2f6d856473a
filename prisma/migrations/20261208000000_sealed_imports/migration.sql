-- ---------------------------------------------------------------------------
-- Hand-written (issue 12): no plaintext sensitive data at rest from the import.
--
-- The import records its rows in SQL alone, so PostgreSQL encrypts them itself, with pgcrypto:
-- a recorded payment's customer_reference and metadata, and the same two fields of its
-- payment_record.created event, are stored as `enc:v2:<key id>:<base64>` (the format, and why
-- not AES-GCM: src/crypto/sql-seal.ts). The caller hands the transaction two keys derived from
-- its encryption key (set_config('payments.sql_seal_keys', …, true)); without them the batch is
-- refused. A staged row's customer reference and metadata are cleared once it is processed.
--
-- Rows written before this stay as they were until `npm run keys:rotate` (the key is not in
-- the database, so a migration cannot encrypt), except the staged rows' copies, cleared below.
-- ---------------------------------------------------------------------------

-- pgcrypto is a trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- The ciphertext of a plaintext: AES-256-CBC, zero IV, PKCS#7 padding, of 16 random bytes and the
-- UTF-8 text (the random first block does the IV's work in one expression). NULL for NULL.
CREATE FUNCTION sql_seal_encrypt(p_key bytea, p_plaintext text) RETURNS bytea LANGUAGE sql VOLATILE AS $$
  SELECT encrypt(gen_random_bytes(16) || convert_to(p_plaintext, 'UTF8'), p_key, 'aes-cbc/pad:pkcs')
$$;

-- The stored text of a ciphertext for one column (or event field): its tag is the first 16 bytes
-- of HMAC-SHA256 of context ‖ 0x00 ‖ key id ‖ 0x00 ‖ ciphertext, so one ciphertext can be stored
-- under two contexts, each authenticated apart. Base64 without encode()'s line breaks. NULL for NULL.
-- STABLE as convert_to is, so that the planner inlines it into the import's statements.
CREATE FUNCTION sql_seal_text(p_key_id text, p_mac_key bytea, p_context text, p_ciphertext bytea) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT 'enc:v2:' || p_key_id || ':' || translate(encode(p_ciphertext || substr(hmac(
           convert_to(p_context, 'UTF8') || '\x00'::bytea || convert_to(p_key_id, 'UTF8') || '\x00'::bytea || p_ciphertext,
           p_mac_key, 'sha256'), 1, 16), 'base64'), E'\n', '')
$$;

-- record_staged_batch: same contract as in 20261207100000, but every customer reference and
-- metadata it writes (the recorded payment's, its event's) is encrypted, and the staged rows it
-- processes are cleared of theirs.
DROP FUNCTION record_staged_batch(text, bigint, int, bigint, timestamptz, interval, text[], bigint, int, int);

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
  -- The keys to seal with, handed to this transaction by shareSqlSealKeys (src/crypto/sql-seal.ts).
  seal_keys text := current_setting('payments.sql_seal_keys', true);
  seal_key_id text := split_part(seal_keys, ':', 1);
  seal_key bytea;
  seal_mac_key bytea;
BEGIN
  IF p_batch_size < 1 THEN
    RAISE EXCEPTION 'invalid_batch' USING ERRCODE = 'P0001', DETAIL = 'batch size must be positive';
  END IF;
  IF p_stripes IS NULL OR p_stripes < 1 OR p_stripe IS NULL OR p_stripe < 0 OR p_stripe >= p_stripes THEN
    RAISE EXCEPTION 'invalid_batch' USING ERRCODE = 'P0001', DETAIL = 'stripe must be in [0, stripes)';
  END IF;
  -- Nothing is ever recorded in the clear: no keys, no batch.
  IF coalesce(seal_keys, '') !~ '^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$' THEN
    RAISE EXCEPTION 'sql_seal_keys_missing' USING ERRCODE = 'P0001',
      DETAIL = 'set payments.sql_seal_keys in the transaction first (src/crypto/sql-seal.ts)';
  END IF;
  seal_key := decode(split_part(seal_keys, ':', 2), 'base64');
  seal_mac_key := decode(split_part(seal_keys, ':', 3), 'base64');
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
  -- Without the plaintext customer reference and metadata: only their ciphertext goes further.
  SELECT c.id, c.merchant_id, c.reference_number, c.account_reference, c.amount, c.currency,
         c.paid_at, c.channel, c.account_id, c.invalid_reason,
         CASE WHEN c.candidate THEN 'rec_' || id_time || id_random_part() END AS record_id,
         CASE WHEN c.candidate THEN 'txn_' || id_time || id_random_part() END AS transaction_id,
         NULL::text AS outcome,
         -- A candidate's sensitive fields, encrypted once each (the record and its event share
         -- the ciphertext, each with a tag of its own); metadata that is not an object shows in
         -- the event as {"value": …} (payment_record_json), encrypted on its own.
         CASE WHEN c.candidate AND c.customer_reference IS NOT NULL
              THEN sql_seal_encrypt(seal_key, c.customer_reference) END AS customer_reference_ct,
         CASE WHEN c.candidate AND jsonb_typeof(c.metadata) <> 'null'
              THEN sql_seal_encrypt(seal_key, c.metadata::text) END AS metadata_ct,
         CASE WHEN c.candidate AND jsonb_typeof(c.metadata) NOT IN ('object', 'null')
              THEN sql_seal_encrypt(seal_key, jsonb_build_object('value', c.metadata)::text) END AS event_metadata_ct
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
  SELECT b.record_id, b.merchant_id, b.account_id, b.reference_number, b.account_reference,
         sql_seal_text(seal_key_id, seal_mac_key, 'recorded_payments.customer_reference', b.customer_reference_ct),
         b.amount, b.currency, b.paid_at, b.channel,
         to_jsonb(sql_seal_text(seal_key_id, seal_mac_key, 'recorded_payments.metadata', b.metadata_ct)),
         'staging', b.id, b.transaction_id, now()
    FROM staged_batch b WHERE b.outcome = 'recorded' ORDER BY b.id;

  -- The outbox: payment_record_json is the public shape (its migration, 20261206120000), its two
  -- sensitive fields then replaced by their ciphertext, as src/events/event-secrets.ts stores
  -- every event (a null stays null). No ON CONFLICT: the records were claimed by this
  -- transaction just now, so their events cannot exist; one that did would be a bug, and the
  -- unique source_key refuses it loudly.
  INSERT INTO "events" (id, merchant_id, type, resource_id, data, source_key)
  SELECT 'evt_' || id_time || id_random_part(), b.merchant_id, 'payment_record.created', b.record_id,
         payment_record_json(b.record_id, b.reference_number, b.account_id, b.account_reference, NULL,
           b.amount, b.currency, b.paid_at, b.channel, NULL, 'staging', b.transaction_id, now())
         || jsonb_build_object(
              'customer_reference',
              sql_seal_text(seal_key_id, seal_mac_key, 'events.data.customer_reference', b.customer_reference_ct),
              'metadata',
              sql_seal_text(seal_key_id, seal_mac_key, 'events.data.metadata',
                            coalesce(b.event_metadata_ct, b.metadata_ct))),
         'payment_record:' || b.record_id || ':created'
    FROM staged_batch b WHERE b.outcome = 'recorded' ORDER BY b.id;

  -- Processed rows keep no customer reference or metadata: the recorded payment has them, encrypted.
  UPDATE "payment_staging" s
     SET processed_at = now(), outcome = b.outcome, customer_reference = NULL, metadata = NULL,
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

-- Staged rows processed before: the recorded payments hold what they need.
UPDATE "payment_staging" SET customer_reference = NULL, metadata = NULL
 WHERE processed_at IS NOT NULL AND (customer_reference IS NOT NULL OR metadata IS NOT NULL);
