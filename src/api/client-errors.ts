import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { errorBody, frameworkError, requestIdHeader, sendError } from './errors.ts';

// Requests refused before a route runs still answer in our one error shape: Fastify's router
// errors (bad URL encoding, over-long path parameters) and Node's HTTP parser errors (headers
// too large: 431; malformed requests: 400), which reach no handler at all.

export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void sendError(reply.header(requestIdHeader, request.id), frameworkError(error));
}

const reasons: Record<number, string> = { 400: 'Bad Request', 431: 'Request Header Fields Too Large' };

export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const message = status === 431 ? 'The request headers are too large.' : 'The request is not valid HTTP.';
  const body = JSON.stringify(errorBody('parameter_invalid', message));
  socket.end(
    `HTTP/1.1 ${status} ${reasons[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
