import type { FastifyInstance } from 'fastify';
import type { AppDependencies } from '../app.ts';

/** Placeholder: GET /v1/events, GET /v1/events/:id, POST /v1/events/:id/redeliver. */
export async function eventRoutes(_app: FastifyInstance, _deps: AppDependencies): Promise<void> {}
