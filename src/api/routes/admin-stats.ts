import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppDependencies } from '../dependencies.ts';
import { withErrors } from '../schemas/common.ts';
import { EventStreamStats, eventStreamStats } from '../../stats/event-stream.ts';
import { StagingTodayStats, stagingTodayStats } from '../../stats/staging-today.ts';
import { StagingBacklog, stagingBacklog } from '../../stats/staging-backlog.ts';
import { ImportBatchTimeStats, importBatchTimeStats } from '../../stats/import-batch-time.ts';
import { RecordsBySourceStats, recordsBySourceStats } from '../../stats/records-by-source.ts';
import { WebhookIntakeStats, webhookIntakeStats } from '../../stats/webhook-intake.ts';
import { LastImportRun, lastImportRun } from '../../stats/last-import-run.ts';

// GET /v1/admin/stats: the platform's operating figures, one section per concept. Each section
// is a module under src/stats/ with its schema and its query (each reads an index, never a
// whole large table); adding one is a line in each list below. The figures are global: an
// operator's view of the platform, not a merchant's.

/** The backlog is counted up to this many rows; past it the answer says "more". */
const statsMaxBacklogRowsCounted = 1_000_000;
/** The average batch time is over this many most recent batches. */
const batchTimeWindowBatches = 100;

const Stats = Type.Object({
  object: Type.Literal('stats'),
  generated_at: Type.String({ format: 'date-time' }),
  day_started_at: Type.String({
    format: 'date-time',
    description: 'Where "today" begins for the *_today sections: 00:00 UTC of the day of generated_at.',
  }),
  staging_today: StagingTodayStats,
  staging_backlog: StagingBacklog,
  import_batches: ImportBatchTimeStats,
  last_import_run: LastImportRun,
  records_today: RecordsBySourceStats,
  webhook_intake: WebhookIntakeStats,
  event_stream: EventStreamStats,
});

function utcDayStart(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

export async function adminStatsRoutes(app: FastifyInstance, deps: AppDependencies): Promise<void> {
  app.get('/v1/admin/stats', { schema: { tags: ['admin'], response: withErrors({ 200: Stats }) } }, async () => {
    const generatedAt = new Date();
    const since = utcDayStart(generatedAt);
    const [stagingToday, backlog, batches, lastRun, recordsToday, webhookIntake, eventStream] = await Promise.all([
      stagingTodayStats(deps.prisma, since),
      stagingBacklog(deps.prisma, statsMaxBacklogRowsCounted),
      importBatchTimeStats(deps.prisma, batchTimeWindowBatches),
      lastImportRun(deps.prisma),
      recordsBySourceStats(deps.prisma, since),
      webhookIntakeStats(deps.prisma, since),
      eventStreamStats(deps.prisma),
    ]);
    return {
      object: 'stats' as const,
      generated_at: generatedAt.toISOString(),
      day_started_at: since.toISOString(),
      staging_today: stagingToday,
      staging_backlog: backlog,
      import_batches: batches,
      last_import_run: lastRun,
      records_today: recordsToday,
      webhook_intake: webhookIntake,
      event_stream: eventStream,
    };
  });
}
