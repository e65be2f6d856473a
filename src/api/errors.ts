import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ApplicationFailure, WorkflowFailedError, ActivityFailure } from '@temporalio/client';
import { PaymentsError, errorCatalog, isErrorCode, type ErrorCode } from '../domain/errors.ts';
import { isConnectionLoss } from '../db/connection-loss.ts';

// The one place where errors become HTTP: { error: { type, code, message, param? } }.
// 5xx never reveal internals; the log keeps the detail with the request id.

export interface ErrorBody {
  error: { type: string; code: string; message: string; param?: string };
}

export function errorBody(code: ErrorCode, message: string, param?: string): ErrorBody {
  const body: ErrorBody = { error: { type: errorCatalog[code].type, code, message } };
  if (param !== undefined) body.error.param = param;
  return body;
}

/** The header that carries the request id on every answer, the id the log has as `reqId`. */
export const requestIdHeader = 'Request-Id';

/**
 * Seconds a client should wait before retrying a 503. A 503 means a dependency (Temporal, the
 * database, a provider) did not answer in time; retrying at once would only add to its load.
 */
export const retryAfterSeconds = 2;

export function sendError(reply: FastifyReply, error: PaymentsError): FastifyReply {
  const status = errorCatalog[error.code].status;
  if (status === 503) reply.header('Retry-After', String(retryAfterSeconds));
  return reply.status(status).send(errorBody(error.code, error.message, error.param));
}

/** Finds the typed error inside a Temporal failure chain (workflow → activity → application). */
export function fromTemporalFailure(error: unknown): PaymentsError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current; depth++) {
    if (current instanceof ApplicationFailure && isErrorCode(current.type)) {
      const details = current.details?.[0] as { param?: string } | undefined;
      return new PaymentsError(current.type, current.message, details?.param);
    }
    if (current instanceof WorkflowFailedError || current instanceof ActivityFailure || current instanceof Error) {
      current = (current as { cause?: unknown }).cause;
    } else {
      return undefined;
    }
  }
  return undefined;
}

interface AjvIssue {
  keyword: string;
  instancePath: string;
  params: { missingProperty?: string; additionalProperty?: string };
  message?: string;
  /** The refused value (the validators are built with ajv's verbose option). */
  data?: unknown;
}

/** A refused value for a message: JSON, cut short (it is the client's own input). */
function quoted(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

function fromValidation(error: FastifyError): PaymentsError {
  const issue = (error.validation as AjvIssue[] | undefined)?.[0];
  const context = (error as { validationContext?: string }).validationContext ?? 'body';
  const path = issue?.instancePath.replace(/^\//, '').replace(/\//g, '.') ?? '';
  if (issue?.keyword === 'required') {
    const param = [path, issue.params.missingProperty].filter(Boolean).join('.');
    return new PaymentsError('parameter_missing', `Missing required ${context} parameter: ${param}.`, param);
  }
  if (issue?.keyword === 'additionalProperties') {
    const param = [path, issue.params.additionalProperty].filter(Boolean).join('.');
    return new PaymentsError('parameter_unknown', `Received unknown ${context} parameter: ${param}.`, param);
  }
  const param = path || undefined;
  if (issue?.keyword === 'enum') {
    return new PaymentsError(
      'parameter_invalid',
      `Invalid ${context} parameter${param ? ` ${param}` : ''}: ${quoted(issue.data)} is not one of the allowed values (see the API docs).`,
      param,
    );
  }
  return new PaymentsError(
    'parameter_invalid',
    `Invalid ${context} parameter${param ? ` ${param}` : ''}: ${issue?.message ?? error.message}.`,
    param,
  );
}

/** Fastify's own refusals of a request (bad URL, over-long parameter, missing content type…). */
function isFrameworkClientError(error: FastifyError): boolean {
  const status = error.statusCode;
  return typeof error.code === 'string' && error.code.startsWith('FST_ERR') && status !== undefined && status < 500;
}

const frameworkMessages: Record<string, string> = {
  FST_ERR_BAD_URL: 'The request URL is not valid.',
  FST_ERR_MAX_PARAM_LENGTH: 'A path parameter is too long.',
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: 'Send a Content-Type header with this request.',
};

/** Our shape for them, in our words: Fastify's text names its internals. */
export function frameworkError(error: FastifyError): PaymentsError {
  if (error.statusCode === 404) return new PaymentsError('resource_missing', 'Unrecognized request URL.');
  return new PaymentsError('parameter_invalid', frameworkMessages[error.code] ?? 'The request is not valid.');
}

export function toPaymentsError(error: unknown): PaymentsError | undefined {
  if (error instanceof PaymentsError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return fromValidation(fastifyError);
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new PaymentsError('invalid_json', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PaymentsError('body_too_large', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new PaymentsError('parameter_invalid', 'Send the request body as application/json.');
  }
  if (fastifyError.statusCode === 429) return new PaymentsError('rate_limited', 'Too many requests; retry later.');
  if (isFrameworkClientError(fastifyError)) return frameworkError(fastifyError);
  if (isConnectionLoss(error)) {
    return new PaymentsError('service_unavailable', 'The service is briefly unavailable; retry in a moment.');
  }
  return fromTemporalFailure(error);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const typed = toPaymentsError(error);
    if (typed) {
      if (errorCatalog[typed.code].status >= 500) request.log.error({ err: error }, 'request failed');
      return sendError(reply, typed);
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(errorBody('internal_error', 'An internal error occurred; it has been logged.'));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(errorBody('resource_missing', `Unrecognized request URL (${request.method} ${request.url}).`)),
  );
}
