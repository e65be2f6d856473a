import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Adds ids (merchantId, the apiKeyId it authenticated with, paymentId) to every later line of this request, the "request
 * completed" one included (Fastify writes it with reply.log), so a grep for a payment id finds
 * the HTTP requests that touched it. Ids only: never a key, token or body.
 */
export function labelRequestLog(
  request: FastifyRequest,
  reply: FastifyReply,
  ids: { merchantId?: string; apiKeyId?: string; paymentId?: string },
): void {
  const child = request.log.child(ids);
  request.log = child;
  reply.log = child;
}
