import type { PrismaClient } from '../src/db/prisma.ts';

/** Placeholder: activities of the outbound delivery workflow. */
export function createDeliveryActivities(_prisma: PrismaClient) {
  return {};
}
