import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, Prisma } from '../generated/prisma/client.ts';

export { Prisma, PrismaClient };
export type Db = PrismaClient | Prisma.TransactionClient;

/** One PrismaClient per process, on node-postgres with an explicit pool size. */
export function createPrisma(databaseUrl: string, poolSize: number): PrismaClient {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 5_000 });
  return new PrismaClient({ adapter });
}
