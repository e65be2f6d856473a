import type { PrismaClient } from '../db/prisma.ts';

// When a key was last used, without a write per request: the time is written only when the
// stored one is older than this interval, so a key busy at 1,000 requests a second costs one
// UPDATE a minute, and `last_used_at` is exact to within a minute. The WHERE repeats the age
// test, so requests racing on a stale time write it once between them (the others match no row).

export const apiKeyLastUsedWriteIntervalMs = 60_000;

export function lastUseIsStale(lastUsedAt: Date | null, now: Date): boolean {
  return lastUsedAt === null || now.getTime() - lastUsedAt.getTime() >= apiKeyLastUsedWriteIntervalMs;
}

export async function recordKeyUse(prisma: PrismaClient, keyId: string, lastUsedAt: Date | null, now: Date) {
  if (!lastUseIsStale(lastUsedAt, now)) return;
  const staleBefore = new Date(now.getTime() - apiKeyLastUsedWriteIntervalMs + 1);
  await prisma.apiKey.updateMany({
    where: { id: keyId, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: staleBefore } }] },
    data: { lastUsedAt: now },
  });
}
