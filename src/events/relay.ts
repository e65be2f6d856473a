import type { Client } from '@temporalio/client';
import type { PrismaClient } from '../db/prisma.ts';
import type { Config } from '../config.ts';

export interface EventRelay {
  /** Stops polling and waits for the pass in progress. */
  stop(): Promise<void>;
}

/** Placeholder: hands undispatched outbox events to delivery workflows (filled in next). */
export function startEventRelay(_deps: { prisma: PrismaClient; temporal: Client; config: Config }): EventRelay {
  return { stop: async () => {} };
}
