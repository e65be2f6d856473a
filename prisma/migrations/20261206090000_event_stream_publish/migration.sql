-- AlterTable
ALTER TABLE "events" ADD COLUMN     "published_at" TIMESTAMPTZ(6);

-- CreateIndex
CREATE INDEX "events_published_at_idx" ON "events"("published_at");

-- Hand-written: the event stream publisher reads unpublished events in creation order, and the
-- admin stats count them; both stay cheap however long the published history grows.
CREATE INDEX "events_unpublished_idx" ON "events" ("created_at", "id") WHERE "published_at" IS NULL;
