-- A payment whose provider step stayed unknown after every lookup has the status
-- requires_attention (README: "Unknown outcomes"). The status check grows by that one value;
-- every stored status is in the new list, so the check's scan cannot fail.
ALTER TABLE "payments" DROP CONSTRAINT "payments_status_check";
ALTER TABLE "payments" ADD CONSTRAINT "payments_status_check"
  CHECK ("status" IN ('processing', 'requires_review', 'requires_capture', 'succeeded', 'failed', 'canceled',
    'requires_attention'));

-- The operators' queue, GET /v1/admin/payments?status=requires_attention: such payments across
-- merchants, longest waiting first. Few rows ever match, so the partial index stays tiny
-- however many payments there are; the merchant indexes cannot serve a query over all merchants.
CREATE INDEX "payments_requiring_attention_idx" ON "payments" ("updated_at", "id") WHERE "status" = 'requires_attention';
