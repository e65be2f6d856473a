-- ---------------------------------------------------------------------------
-- Hand-written (issue 13): a receiver's Retry-After (on 429 or 503), recorded with the attempt
-- that got it, so that a retried activity answers the same wait as the attempt it finds.
-- ---------------------------------------------------------------------------
ALTER TABLE "webhook_delivery_attempts" ADD COLUMN "retry_after_ms" INTEGER;
ALTER TABLE "webhook_delivery_attempts" ADD CONSTRAINT "webhook_delivery_attempts_retry_after_ms_check"
  CHECK ("retry_after_ms" IS NULL OR "retry_after_ms" >= 0);
