-- ---------------------------------------------------------------------------
-- Hand-written: record_staged_batch plans as PL/pgSQL does by default again (issue 10).
-- ---------------------------------------------------------------------------

-- 20261206110000 made both batch functions plan every statement afresh on every call. The
-- plan that went bad was ledger_post_many's (it keeps force_custom_plan, and no longer has the
-- `= ANY (array)` re-read that made a generic plan costly). For record_staged_batch, re-planning
-- its twenty-odd statements on every batch cost about 90 ms per 5,000 rows (100,000 rows,
-- direct: 228 -> 210 µs of PostgreSQL CPU per row without it), and none of its own statements
-- went slow under the generic plans (auto_explain over a 20-batch run: nothing of it over 300 ms).
ALTER FUNCTION record_staged_batch(text, bigint, int, bigint, timestamptz, interval, text[]) RESET plan_cache_mode;
