-- AlterTable
ALTER TABLE "accounts" ADD COLUMN     "external_reference" TEXT;

-- CreateTable
CREATE TABLE "payment_staging" (
    "id" BIGSERIAL NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "reference_number" TEXT NOT NULL,
    "account_reference" TEXT NOT NULL,
    "customer_reference" TEXT,
    "amount_minor" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "paid_at" TIMESTAMPTZ(6),
    "channel" TEXT,
    "metadata" JSONB,
    "processed_at" TIMESTAMPTZ(6),
    "outcome" TEXT,
    "outcome_detail" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_staging_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "recorded_payments" (
    "id" TEXT NOT NULL,
    "merchant_id" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "reference_number" TEXT NOT NULL,
    "account_reference" TEXT NOT NULL,
    "customer_reference" TEXT,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "paid_at" TIMESTAMPTZ(6) NOT NULL,
    "channel" TEXT,
    "metadata" JSONB,
    "source" TEXT NOT NULL,
    "staging_id" BIGINT,
    "transaction_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "recorded_payments_pkey" PRIMARY KEY ("id","paid_at")
) PARTITION BY RANGE ("paid_at");

-- CreateTable
CREATE TABLE "payment_references" (
    "merchant_id" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "recorded_payment_id" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "payload" JSONB,
    "recorded_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "payment_references_pkey" PRIMARY KEY ("merchant_id","reference")
);

-- CreateTable
CREATE TABLE "import_runs" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "run_id" TEXT,
    "after_id" BIGINT,
    "batch_start_id" BIGINT,
    "batch_end_id" BIGINT,
    "batches" INTEGER NOT NULL DEFAULT 0,
    "rows" INTEGER NOT NULL DEFAULT 0,
    "recorded" INTEGER NOT NULL DEFAULT 0,
    "duplicates" INTEGER NOT NULL DEFAULT 0,
    "invalid" INTEGER NOT NULL DEFAULT 0,
    "status" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(6),
    "duration_ms" INTEGER,
    "error" TEXT,

    CONSTRAINT "import_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "recorded_payments_id_idx" ON "recorded_payments"("id");

-- CreateIndex
CREATE INDEX "recorded_payments_merchant_id_created_at_idx" ON "recorded_payments"("merchant_id", "created_at");

-- CreateIndex
CREATE INDEX "recorded_payments_merchant_id_reference_number_idx" ON "recorded_payments"("merchant_id", "reference_number");

-- CreateIndex
CREATE INDEX "recorded_payments_account_id_paid_at_idx" ON "recorded_payments"("account_id", "paid_at");

-- CreateIndex
CREATE INDEX "payment_references_expires_at_idx" ON "payment_references"("expires_at");

-- CreateIndex
CREATE INDEX "payment_references_source_recorded_at_created_at_idx" ON "payment_references"("source", "recorded_at", "created_at");

-- CreateIndex
CREATE INDEX "import_runs_kind_started_at_idx" ON "import_runs"("kind", "started_at");

-- CreateIndex
CREATE UNIQUE INDEX "import_runs_run_id_after_id_key" ON "import_runs"("run_id", "after_id");

-- CreateIndex
CREATE UNIQUE INDEX "accounts_merchant_id_external_reference_key" ON "accounts"("merchant_id", "external_reference");

-- ---------------------------------------------------------------------------
-- Hand-written: recorded payments (issue 10).
-- ---------------------------------------------------------------------------

ALTER TABLE "recorded_payments" ADD CONSTRAINT "recorded_payments_amount_check" CHECK ("amount" > 0);
ALTER TABLE "recorded_payments" ADD CONSTRAINT "recorded_payments_source_check" CHECK ("source" IN ('staging', 'webhook'));
-- Through (id, currency), as ledger entries: a recorded payment's currency is its account's.
ALTER TABLE "recorded_payments" ADD CONSTRAINT "recorded_payments_account_fkey"
  FOREIGN KEY ("account_id", "currency") REFERENCES "accounts"("id", "currency");
ALTER TABLE "recorded_payments" ADD CONSTRAINT "recorded_payments_merchant_fkey"
  FOREIGN KEY ("merchant_id") REFERENCES "merchants"("id");
ALTER TABLE "payment_references" ADD CONSTRAINT "payment_references_source_check" CHECK ("source" IN ('staging', 'webhook'));
ALTER TABLE "import_runs" ADD CONSTRAINT "import_runs_kind_check" CHECK ("kind" IN ('run', 'batch'));
ALTER TABLE "import_runs" ADD CONSTRAINT "import_runs_status_check" CHECK ("status" IN ('running', 'succeeded', 'failed'));

-- The import's keyset: unprocessed rows in id order; processed rows leave the index.
CREATE INDEX "payment_staging_unprocessed_idx" ON "payment_staging" ("id") WHERE "processed_at" IS NULL;

-- Ids made inside the database for set-based writes: the prefix, then 22 characters of
-- [0-9A-Za-z] (about 130 random bits), like the application's newId.
CREATE FUNCTION new_id(p_prefix text) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT p_prefix || '_' || substr(translate(encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'), '+/=', ''), 1, 22)
$$;

-- Monthly partitions of recorded_payments, named recorded_payments_YYYYMM, bounds in UTC.
-- Creates the missing ones for every month from p_from's to p_to's; existing ones are left
-- alone (no DDL, no lock), so calling it for months already covered costs a catalog lookup.
CREATE FUNCTION recorded_payments_ensure_partitions(p_from timestamptz, p_to timestamptz)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  month timestamp := date_trunc('month', p_from AT TIME ZONE 'UTC');
  last timestamp := date_trunc('month', p_to AT TIME ZONE 'UTC');
  name text;
  created int := 0;
BEGIN
  WHILE month <= last LOOP
    name := 'recorded_payments_' || to_char(month, 'YYYYMM');
    IF to_regclass(name) IS NULL THEN
      EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF "recorded_payments" FOR VALUES FROM (%L) TO (%L)',
        name, (month AT TIME ZONE 'UTC'), ((month + interval '1 month') AT TIME ZONE 'UTC'));
      created := created + 1;
    END IF;
    month := month + interval '1 month';
  END LOOP;
  RETURN created;
END;
$$;

-- Thirteen months back (the import accepts payments up to RECORD_MAX_AGE_DAYS = 365 old) to
-- three ahead; the maintenance run keeps creating months ahead.
SELECT recorded_payments_ensure_partitions(now() - interval '13 months', now() + interval '3 months');

-- Posts many balanced ledger transactions in one call, with the same guarantees as ledger_post
-- for each: idempotent by key (a known key writes nothing and answers replayed), accounts
-- locked FOR UPDATE in id order (once, for all of them), balanced per currency, no zero
-- entry, non-negative available balance for accounts that do not allow negative, every
-- entry's balance_after the running sum and its sequence the account's next version. Entries
-- are applied in the order given (transaction by transaction), so the result equals calling
-- ledger_post for each transaction in turn. Entry i belongs to transaction
-- p_entry_transactions[i] (1-based index into p_transaction_ids).
CREATE FUNCTION ledger_post_many(
  p_transaction_ids text[],
  p_kind text,
  p_references text[],
  p_idempotency_keys text[],
  p_entry_transactions int[],
  p_entry_ids text[],
  p_entry_account_ids text[],
  p_entry_amounts bigint[]
) RETURNS TABLE (transaction_id text, replayed boolean) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  n int := coalesce(array_length(p_transaction_ids, 1), 0);
  m int := coalesce(array_length(p_entry_ids, 1), 0);
  fresh text[];
  -- The usual case (no key seen before) skips the per-entry membership test.
  all_fresh boolean;
  applied_at timestamptz;
  bad text;
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
                     WHERE (all_fresh OR p_transaction_ids[x.t] = ANY (fresh)))
     ORDER BY a.id FOR UPDATE;

    SELECT x.account_id INTO bad
      FROM unnest(p_entry_transactions, p_entry_account_ids) AS x(t, account_id)
      LEFT JOIN "accounts" a ON a.id = x.account_id
     WHERE (all_fresh OR p_transaction_ids[x.t] = ANY (fresh)) AND a.id IS NULL LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'account_not_found' USING ERRCODE = 'P0001', DETAIL = bad;
    END IF;

    PERFORM 1 FROM unnest(p_entry_transactions, p_entry_account_ids, p_entry_amounts) AS x(t, account_id, amount)
      JOIN "accounts" a ON a.id = x.account_id
     WHERE (all_fresh OR p_transaction_ids[x.t] = ANY (fresh))
     GROUP BY x.t, a.currency HAVING sum(x.amount) <> 0;
    IF FOUND THEN
      RAISE EXCEPTION 'currency_mismatch' USING ERRCODE = 'P0001', DETAIL = 'entries must balance per currency';
    END IF;

    -- One instant for the whole call, taken after the locks: within an account created_at
    -- never goes back as sequence grows, so "balance at t" stays well defined.
    applied_at := clock_timestamp();
    INSERT INTO "ledger_entries" (id, transaction_id, account_id, amount, currency, balance_after, sequence, created_at)
    SELECT s.entry_id, s.transaction_id, s.account_id, s.amount, s.currency, s.balance_after, s.sequence, applied_at
      FROM (
        SELECT x.entry_id, p_transaction_ids[x.t] AS transaction_id, x.account_id, x.amount, a.currency,
               a.balance + sum(x.amount) OVER w AS balance_after,
               a.version + row_number() OVER w AS sequence
          FROM unnest(p_entry_transactions, p_entry_ids, p_entry_account_ids, p_entry_amounts) WITH ORDINALITY
               AS x(t, entry_id, account_id, amount, ord)
          JOIN "accounts" a ON a.id = x.account_id
         WHERE (all_fresh OR p_transaction_ids[x.t] = ANY (fresh))
        WINDOW w AS (PARTITION BY x.account_id ORDER BY x.ord ROWS UNBOUNDED PRECEDING)
      ) s
     ORDER BY s.account_id, s.sequence;

    -- As ledger_post checks after each entry: no account that may not go negative ever shows
    -- less available than zero, not even between two entries of this call.
    SELECT e.account_id INTO bad FROM "ledger_entries" e JOIN "accounts" a ON a.id = e.account_id
     WHERE e.transaction_id = ANY (fresh) AND NOT a.allow_negative AND e.balance_after - a.held < 0 LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'insufficient_funds' USING ERRCODE = 'P0001', DETAIL = bad;
    END IF;
    SELECT e.account_id INTO bad FROM "ledger_entries" e JOIN "accounts" a ON a.id = e.account_id
     WHERE e.transaction_id = ANY (fresh) AND a.merchant_id IS NOT NULL
       AND e.balance_after NOT BETWEEN -9007199254740991 AND 9007199254740991 LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'accounts_balance_range_check' USING ERRCODE = 'P0001', DETAIL = bad;
    END IF;

    UPDATE "accounts" a
       SET balance = a.balance + t.total, version = a.version + t.entries, updated_at = now()
      FROM (SELECT x.account_id, sum(x.amount) AS total, count(*) AS entries
              FROM unnest(p_entry_transactions, p_entry_account_ids, p_entry_amounts) AS x(t, account_id, amount)
             WHERE (all_fresh OR p_transaction_ids[x.t] = ANY (fresh))
             GROUP BY x.account_id) t
     WHERE a.id = t.account_id;
  END IF;

  RETURN QUERY
    SELECT lt.id, NOT (lt.id = ANY (fresh))
      FROM unnest(p_idempotency_keys) WITH ORDINALITY AS k(key, ord)
      JOIN "ledger_transactions" lt ON lt.idempotency_key = k.key
     ORDER BY k.ord;
END;
$$;

-- One batch of the staging import, set-based, in the caller's database transaction: the next
-- p_batch_size unprocessed staged rows after id p_after_id (keyset), validated, deduplicated
-- against payment_references (INSERT … ON CONFLICT DO NOTHING: the first row of a reference in
-- the batch is its candidate, a reference already claimed by an earlier batch or the webhook
-- makes it a duplicate), recorded, posted to the ledger (one transaction per recorded payment:
-- external_funding of its currency pays the account) through ledger_post_many, every staged
-- row marked with its outcome, and the run's counters updated. Idempotent by (run, after id):
-- the batch row is inserted first, so a retry (or a second attempt running at once, which
-- waits on that insert) answers the stored result with replayed = true and writes nothing.
-- The recorded rows stay in the temporary table staged_batch until commit, for the caller to
-- write their outbox events in the same transaction.
CREATE FUNCTION record_staged_batch(
  p_run_id text,
  p_after_id bigint,
  p_batch_size int,
  p_max_amount bigint,
  p_oldest_paid_at timestamptz,
  p_reference_retention interval,
  p_merchant_ids text[]
) RETURNS TABLE (batch_start_id bigint, batch_end_id bigint, row_count int, recorded int, duplicates int, invalid int, replayed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  started timestamptz := clock_timestamp();
  batch_id text := p_run_id || ':' || p_after_id;
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

  CREATE TEMPORARY TABLE staged_batch ON COMMIT DROP AS
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
         END AS invalid_reason,
         NULL::text AS record_id,
         NULL::text AS transaction_id,
         NULL::text AS outcome
    FROM (SELECT * FROM "payment_staging" ps
           WHERE ps.id > p_after_id AND ps.processed_at IS NULL
             AND (p_merchant_ids IS NULL OR ps.merchant_id = ANY (p_merchant_ids))
           ORDER BY ps.id LIMIT p_batch_size FOR UPDATE) s
    LEFT JOIN "merchants" m ON m.id = s.merchant_id
    LEFT JOIN "accounts" a ON a.merchant_id = s.merchant_id AND a.external_reference = s.account_reference;

  SELECT min(b.id), max(b.id), count(*) INTO v_start, v_end, v_rows FROM staged_batch b;
  IF v_rows = 0 THEN
    DELETE FROM "import_runs" WHERE id = batch_id;
    RETURN QUERY SELECT NULL::bigint, NULL::bigint, 0, 0, 0, 0, false;
    RETURN;
  END IF;

  UPDATE staged_batch b SET record_id = new_id('rec'), transaction_id = new_id('txn')
   WHERE b.id IN (SELECT DISTINCT ON (c.merchant_id, c.reference_number) c.id FROM staged_batch c
                   WHERE c.invalid_reason IS NULL ORDER BY c.merchant_id, c.reference_number, c.id);

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
         (SELECT array_agg(new_id('ent') ORDER BY e.k, e.side) FROM e) AS entry_ids,
         (SELECT array_agg(e.account_id ORDER BY e.k, e.side) FROM e) AS entry_accounts,
         (SELECT array_agg(e.amount ORDER BY e.k, e.side) FROM e) AS entry_amounts
    INTO ledger;
  PERFORM 1 FROM ledger_post_many(ledger.transaction_ids, 'payment_record', ledger.refs, ledger.keys,
                                  ledger.entry_transactions, ledger.entry_ids, ledger.entry_accounts, ledger.entry_amounts);

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
