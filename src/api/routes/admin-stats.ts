import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AppDependencies } from '../app.ts';
import { withErrors } from '../schemas/common.ts';
import { EventStreamStats, eventStreamStats } from '../../stats/event-stream.ts';

// GET /v1/admin/stats: the platform's operating figures, one section per concept. Each section
// is a module under src/stats/ with its schema and its query; adding one is a line in each
// list below.

const Stats = Type.Object({
  object: Type.Literal('stats'),
  generated_at: Type.String({ format: 'date-time' }),
  event_stream: EventStreamStats,
});

export async function adminStatsRoutes(app: FastifyInstance, deps: AppDependencies): Promise<void> {
  app.get('/v1/admin/stats', { schema: { tags: ['admin'], response: withErrors({ 200: Stats }) } }, async () => {
    const [eventStream] = await Promise.all([eventStreamStats(deps.prisma)]);
    return { object: 'stats' as const, generated_at: new Date().toISOString(), event_stream: eventStream };
  });
}
