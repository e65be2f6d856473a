import type { FastifyInstance } from 'fastify';
import type { AppDependencies } from '../app.ts';

/** Placeholder: POST/GET/DELETE /v1/webhook_endpoints and GET /v1/webhook_endpoints/:id/deliveries. */
export async function webhookEndpointRoutes(_app: FastifyInstance, _deps: AppDependencies): Promise<void> {}
