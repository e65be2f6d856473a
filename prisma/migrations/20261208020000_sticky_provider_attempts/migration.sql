-- ---------------------------------------------------------------------------
-- Hand-written: sticky provider routing and transitions rewritten by a later workflow task.
--
-- The payment workflow runs its steps as local activities. A workflow task lost after they
-- acted (a killed worker, a task over its timeout) runs them again, and the second run can take
-- another path: another provider after a fallback (two charges), another content at the same
-- payment version (a stale read model).
-- ---------------------------------------------------------------------------

-- Every provider a money-moving step was sent to, written once before the first call
-- (src/providers/provider-attempts.ts). A step that runs again goes back to these first, with
-- the same per-provider idempotency key. `refused`: every call there was surely turned away (a
-- 503, a refused connection), so it holds nothing; reset before every call, so a call cut off
-- or unanswered leaves it false for good.
CREATE TABLE "provider_attempts" (
    "step_key" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "payment_id" TEXT NOT NULL,
    "refused" BOOLEAN NOT NULL DEFAULT false,
    "attempted_at" TIMESTAMPTZ(6) NOT NULL DEFAULT clock_timestamp(),

    CONSTRAINT "provider_attempts_pkey" PRIMARY KEY ("step_key", "provider")
);
CREATE INDEX "provider_attempts_payment_id_idx" ON "provider_attempts"("payment_id");

-- The workflow task that wrote a transition (its history length when it started: larger for a
-- task that replaces a lost one). 0: written before this column, or by no workflow task.
ALTER TABLE "payments" ADD COLUMN "task_mark" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "payment_events" ADD COLUMN "task_mark" BIGINT NOT NULL DEFAULT 0;

-- payment_events stays append-only, except for one case: a later workflow task rewriting the
-- event an earlier, lost task recorded at the same version (its type, data and mark only).
CREATE OR REPLACE FUNCTION payment_events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.task_mark > OLD.task_mark AND NEW.id = OLD.id
     AND NEW.payment_id = OLD.payment_id AND NEW.version = OLD.version AND NEW.created_at = OLD.created_at THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'payment_events is append-only: % rejected', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$;
