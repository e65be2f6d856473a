-- ---------------------------------------------------------------------------
-- Hand-written (issue 13): rolling an endpoint's signing secret. The secret it replaced keeps
-- signing deliveries (beside the new one) until previous_secret_expires_at, so receivers can
-- switch without a gap. Encrypted like the secret.
-- ---------------------------------------------------------------------------
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret" TEXT;
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret_expires_at" TIMESTAMPTZ(6);
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_previous_secret_check"
  CHECK (("previous_secret" IS NULL) = ("previous_secret_expires_at" IS NULL));
