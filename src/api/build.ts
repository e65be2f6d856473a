import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import type { Logger } from 'pino';
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormats from 'ajv-formats';
import { app, type AppDependencies } from './app.ts';
import { clientErrorHandler, frameworkErrors } from './client-errors.ts';
import { requestIdHeader } from './errors.ts';
import { timeRequests } from './routes/metrics.ts';

export interface BuildOptions {
  /** The API's pino logger (src/observability/logger.ts), or false for none (most tests). */
  logger: Logger | false;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  /** Sees every route as it is registered, hidden ones too (the route fuzz test enumerates them). */
  onRoute?: (route: RouteOptions) => void;
}

function makeAjv(options: AjvOptions): Ajv {
  // verbose: an error carries the refused value, so a 400 can name it (src/api/errors.ts).
  const ajv = new Ajv({
    allErrors: false,
    strict: false,
    removeAdditional: false,
    useDefaults: true,
    verbose: true,
    ...options,
  });
  addFormats.default(ajv);
  return ajv;
}

// Bodies are validated exactly as sent: no type coercion (the string "100" is not an amount)
// and no silent removal of unknown fields. Query strings and params arrive as text, so they
// are coerced.
const bodyAjv = makeAjv({ coerceTypes: false });
const textAjv = makeAjv({ coerceTypes: 'array' });

/**
 * A POST that takes no parameters (cancel, approve…) may arrive with `Content-Type:
 * application/json` and no body, as many HTTP clients send it: that means `{}`, not bad JSON.
 * Anything else goes to Fastify's own parser, with its prototype-poisoning protection.
 */
function acceptEmptyJson(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(null, {});
      return;
    }
    // Typed as possibly async; the default parser answers through `done`.
    void parseJson(request, text, done);
  });
}

export async function buildApp(deps: AppDependencies, options: BuildOptions): Promise<FastifyInstance> {
  const fastify = Fastify({
    // Typed as Fastify's logger: the app's plugins are written against FastifyBaseLogger.
    ...(options.logger ? { loggerInstance: options.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: options.requestTimeoutMs,
    connectionTimeout: options.requestTimeoutMs,
    return503OnClosing: true,
    genReqId: () => `req_${crypto.randomUUID()}`,
    frameworkErrors,
    clientErrorHandler,
  });
  fastify.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));
  acceptEmptyJson(fastify);
  if (options.onRoute) fastify.addHook('onRoute', options.onRoute);
  // Every answer names its request, as the log does, so a client can quote it to support.
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header(requestIdHeader, request.id);
  });
  timeRequests(fastify);
  await fastify.register(app, deps);
  return fastify;
}
