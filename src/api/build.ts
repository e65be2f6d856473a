import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormats from 'ajv-formats';
import { app, type AppDependencies } from './app.ts';
import { clientErrorHandler, frameworkErrors } from './client-errors.ts';

export interface BuildOptions {
  logger: FastifyServerOptions['logger'];
  bodyLimitBytes: number;
  requestTimeoutMs: number;
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

export async function buildApp(deps: AppDependencies, options: BuildOptions): Promise<FastifyInstance> {
  const fastify = Fastify({
    logger: options.logger,
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: options.requestTimeoutMs,
    connectionTimeout: options.requestTimeoutMs,
    return503OnClosing: true,
    genReqId: () => `req_${crypto.randomUUID()}`,
    frameworkErrors,
    clientErrorHandler,
  });
  fastify.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));
  await fastify.register(app, deps);
  return fastify;
}
