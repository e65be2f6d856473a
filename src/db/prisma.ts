import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, Prisma } from '../generated/prisma/client.ts';
import { watchDatabase } from '../observability/database-metrics.ts';

export { Prisma, PrismaClient };
export type Db = PrismaClient | Prisma.TransactionClient;

/**
 * One PrismaClient per process, on node-postgres with an explicit pool size. The pool is made
 * here, so /metrics can read its usage; $disconnect still ends it (disposeExternalPool).
 */
export function createPrisma(databaseUrl: string, poolSize: number): PrismaClient {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 5_000 });
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  const prisma = new PrismaClient({ adapter });
  watchDatabase(prisma, pool);
  return prisma;
}
