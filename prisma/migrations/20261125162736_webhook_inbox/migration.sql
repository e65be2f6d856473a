-- AlterTable
ALTER TABLE "webhook_events" ADD COLUMN     "workflow_started_at" TIMESTAMPTZ(6);

-- Hand-written: the inbox backlog, as small as the number of events not yet handed to Temporal.
CREATE INDEX "webhook_events_not_started_idx" ON "webhook_events" ("received_at") WHERE "workflow_started_at" IS NULL;
