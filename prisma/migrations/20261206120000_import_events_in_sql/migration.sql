-- ---------------------------------------------------------------------------
-- Hand-written: the import builds its payment_record.created events in SQL (issue 10).
-- ---------------------------------------------------------------------------

-- The public shape of a recorded payment, exactly as presentRecordedPayment
-- (src/records/public-record.ts, the one definition) makes it from the same row: amount as a
-- JSON integer (refused past 2^53 - 1), times in UTC with milliseconds as Date#toISOString
-- writes them, metadata that is no JSON object wrapped as {"value": …}, JSON null as null.
-- test/integration/imports.test.ts proves the two equal, row for row. The staging import uses
-- it so that a batch's thousands of events need not travel to the application and back.
CREATE FUNCTION payment_record_json(
  p_id text,
  p_reference_number text,
  p_account_id text,
  p_account_reference text,
  p_customer_reference text,
  p_amount bigint,
  p_currency text,
  p_paid_at timestamptz,
  p_channel text,
  p_metadata jsonb,
  p_source text,
  p_transaction_id text,
  p_created_at timestamptz
) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p_amount NOT BETWEEN -9007199254740991 AND 9007199254740991 THEN
    RAISE EXCEPTION 'amount % exceeds the JSON-safe range', p_amount;
  END IF;
  IF p_source IS DISTINCT FROM 'staging' AND p_source IS DISTINCT FROM 'webhook' THEN
    RAISE EXCEPTION 'record source % is not a public one', p_source;
  END IF;
  RETURN jsonb_build_object(
    'id', p_id,
    'object', 'payment_record',
    'reference_number', p_reference_number,
    'account_id', p_account_id,
    'account_reference', p_account_reference,
    'customer_reference', p_customer_reference,
    'amount', p_amount,
    'currency', p_currency,
    'paid_at', to_char(p_paid_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'channel', p_channel,
    'metadata', CASE
      WHEN p_metadata IS NULL OR jsonb_typeof(p_metadata) = 'null' THEN 'null'::jsonb
      WHEN jsonb_typeof(p_metadata) = 'object' THEN p_metadata
      ELSE jsonb_build_object('value', p_metadata)
    END,
    'source', p_source,
    'transaction_id', p_transaction_id,
    'created_at', to_char(p_created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
END;
$$;
