import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../config.ts';
import type { Prisma, PrismaClient } from '../db/prisma.ts';
import { startPollLoop, stderrLogger, type PollLogger, type PollLoop } from '../events/poll-loop.ts';
import { newId } from '../ids.ts';
import type { ProviderName } from '../providers/provider.ts';
import type { webhookWorkflowV2 } from '../../workflows/webhook.ts';

// The webhook inbox. A provider event is acknowledged once it is in PostgreSQL: one INSERT,
// deduplicated by the (provider, event id) unique key, so a repeat answers `duplicate: true`
// and starts nothing. Its workflow (id `webhook:<provider>:<event id>`, reject-duplicate) is
// started right after the answer, a few at a time; the sweeper starts whatever a crash or an
// overload left behind. Acknowledging never waits on Temporal, whose start rate on a small
// machine is far below what providers can send.

export function webhookWorkflowId(provider: ProviderName, eventId: string): string {
  return `webhook:${provider}:${eventId}`;
}

async function startWorkflow(
  prisma: PrismaClient,
  temporal: Client,
  config: Config,
  provider: ProviderName,
  eventId: string,
): Promise<void> {
  try {
    await temporal.workflow.start<typeof webhookWorkflowV2>('webhookWorkflowV2', {
      workflowId: webhookWorkflowId(provider, eventId),
      taskQueue: config.taskQueue,
      args: [{ provider, eventId, retryMs: config.unmatchedRetryMs, giveUpMs: config.unmatchedGiveUpMs }],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  await prisma.webhookEvent.updateMany({
    where: { provider, externalId: eventId, workflowStartedAt: null },
    data: { workflowStartedAt: new Date() },
  });
}

export interface WebhookInbox {
  /** Records the event; true when it is new, false for a repeat delivery. */
  receive(event: { provider: ProviderName; eventId: string; type: string; payload: unknown }): Promise<boolean>;
  /** Waits for the starts in flight. */
  close(): Promise<void>;
}

export function createWebhookInbox(deps: {
  prisma: PrismaClient;
  temporal: Client;
  config: Config;
  log?: PollLogger;
}): WebhookInbox {
  const { prisma, temporal, config } = deps;
  const log = deps.log ?? stderrLogger('webhook inbox');
  const waiting: { provider: ProviderName; eventId: string }[] = [];
  const running = new Set<Promise<void>>();

  const pump = () => {
    while (running.size < config.webhookStartConcurrency && waiting.length > 0) {
      const next = waiting.shift()!;
      const started = startWorkflow(prisma, temporal, config, next.provider, next.eventId)
        .catch((err: unknown) => log.error({ err, ...next }, 'could not start webhook workflow; the sweeper will'))
        .finally(() => {
          running.delete(started);
          pump();
        });
      running.add(started);
    }
  };

  return {
    async receive({ provider, eventId, type, payload }) {
      const inserted = await prisma.webhookEvent.createMany({
        data: [{ id: newId('whev'), provider, externalId: eventId, type, payload: payload as Prisma.InputJsonValue }],
        skipDuplicates: true,
      });
      if (inserted.count === 0) return false;
      if (waiting.length < config.webhookMaxPendingStarts) {
        waiting.push({ provider, eventId });
        pump();
      }
      return true;
    },
    async close() {
      waiting.length = 0;
      await Promise.all(running);
    },
  };
}

/** Starts the workflows of inbox events that have waited longer than webhookSweepAfterMs. */
export async function sweepWebhookInboxOnce(deps: { prisma: PrismaClient; temporal: Client; config: Config }) {
  const { prisma, temporal, config } = deps;
  const stale = await prisma.webhookEvent.findMany({
    where: { workflowStartedAt: null, receivedAt: { lt: new Date(Date.now() - config.webhookSweepAfterMs) } },
    orderBy: { receivedAt: 'asc' },
    take: config.relayBatchSize,
    select: { provider: true, externalId: true },
  });
  for (let index = 0; index < stale.length; index += config.webhookStartConcurrency) {
    await Promise.all(
      stale
        .slice(index, index + config.webhookStartConcurrency)
        .map((row) => startWorkflow(prisma, temporal, config, row.provider as ProviderName, row.externalId)),
    );
  }
  return stale.length;
}

export function startWebhookSweeper(deps: { prisma: PrismaClient; temporal: Client; config: Config }): PollLoop {
  return startPollLoop({
    intervalMs: deps.config.webhookSweepIntervalMs,
    log: stderrLogger('webhook sweeper'),
    pass: async () => (await sweepWebhookInboxOnce(deps)) >= deps.config.relayBatchSize,
  });
}
