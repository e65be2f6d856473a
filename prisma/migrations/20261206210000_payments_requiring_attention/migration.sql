-- The operators' queue, GET /v1/admin/payments?status=requires_attention: payments whose
-- provider step stayed unknown after every lookup, across merchants, longest waiting first.
-- Few rows ever match, so the partial index stays tiny however many payments there are; the
-- merchant indexes cannot serve a query over all merchants.
CREATE INDEX "payments_requiring_attention_idx" ON "payments" ("updated_at", "id") WHERE "status" = 'requires_attention';
