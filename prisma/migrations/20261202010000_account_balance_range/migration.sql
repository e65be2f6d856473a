-- A merchant's balances stay within what the API can show as a JSON integer (2^53 - 1 minor
-- units): a posting that would go past it is refused (400 amount_too_large) instead of leaving
-- an account that can no longer be read. Platform accounts sum every merchant and are exempt,
-- so one merchant's volume never refuses another's posting. NOT VALID: rows written before
-- are not re-checked, new writes are.
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_balance_range_check"
  CHECK ("merchant_id" IS NULL OR ("balance" BETWEEN -9007199254740991 AND 9007199254740991
    AND "held" <= 9007199254740991)) NOT VALID;
