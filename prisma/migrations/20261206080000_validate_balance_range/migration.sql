-- The balance range check was added NOT VALID, so a row written before it could still hold a
-- balance the API cannot show, and every read of that account would fail. Validating it proves
-- no such row exists: nothing stored can make a read fail. If one does exist, this migration
-- fails and names the constraint; such a row is a broken invariant for an operator to mend,
-- not something to hide behind a read that rounds it.
ALTER TABLE "accounts" VALIDATE CONSTRAINT "accounts_balance_range_check";
