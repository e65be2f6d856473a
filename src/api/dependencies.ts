import type { Client } from '@temporalio/client';
import type { PrismaClient } from '../db/prisma.ts';
import type { Config } from '../config.ts';

/** What the API's plugins are given: one of each per process, closed by whoever made it. */
export interface AppDependencies {
  prisma: PrismaClient;
  temporal: Client;
  config: Config;
}
