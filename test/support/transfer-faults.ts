import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../src/db/prisma.ts';

/**
 * A database fault for one source account: completing its transfers (status → succeeded) fails
 * with an error that is no business answer, so the capture is retried until its timeout. One
 * trigger per fault, made by functions defined here (names and literals quoted by format()).
 * Returns the way to end the fault.
 */
export async function failCompletionsFrom(prisma: PrismaClient, accountId: string): Promise<() => Promise<void>> {
  await defineFaults(prisma);
  const trigger = `test_fault_${randomUUID().replace(/-/g, '')}`;
  await prisma.$executeRaw`SELECT 1 FROM test_fault_completions_from(${trigger}, ${accountId})`;
  return async () => {
    await prisma.$executeRaw`SELECT 1 FROM test_end_fault(${trigger})`;
  };
}

let defined: Promise<void> | undefined;

function defineFaults(prisma: PrismaClient): Promise<void> {
  defined ??= (async () => {
    await prisma.$executeRaw`CREATE OR REPLACE FUNCTION test_refuse_completion() RETURNS trigger
      LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'simulated database fault'; END $$`;
    await prisma.$executeRaw`CREATE OR REPLACE FUNCTION test_fault_completions_from(p_trigger text, p_account text)
      RETURNS void LANGUAGE plpgsql AS $$ BEGIN
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON "transfers" FOR EACH ROW
          WHEN (NEW.from_account_id = %L AND NEW.status = %L) EXECUTE FUNCTION test_refuse_completion()',
          p_trigger, p_account, 'succeeded');
      END $$`;
    await prisma.$executeRaw`CREATE OR REPLACE FUNCTION test_end_fault(p_trigger text)
      RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE format('DROP TRIGGER %I ON "transfers"', p_trigger); END $$`;
  })();
  return defined;
}
