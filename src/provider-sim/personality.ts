import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimOperation } from './faults.ts';
import { requestFingerprint, type SimResponse } from './idempotency.ts';
import type { SimProvider } from './options.ts';
import type { Simulator } from './simulator.ts';

// What both personalities share: fault injection in front of every route, idempotent
// answers, and errors (validation included) in the personality's own shape.

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route does, for timeout faults aimed at one kind of request. */
    operation?: SimOperation;
  }
}

export interface PersonalityErrors {
  /** 503 from fault injection. */
  unavailable(): SimResponse;
  /** 504 after a timeout fault held the request past its caller's deadline. */
  timedOut(): SimResponse;
  /** 409: the first request with this key is still running. */
  inProgress(): SimResponse;
  /** The key was first used with another request. */
  keyReused(): SimResponse;
  validation(issue: ValidationIssue): SimResponse;
  invalidJson(): SimResponse;
  routeNotFound(method: string, url: string): SimResponse;
  internal(): SimResponse;
}

export interface ValidationIssue {
  kind: 'missing' | 'unknown' | 'invalid';
  /** Dotted path, e.g. "amount.value". */
  param: string;
  message: string;
}

export interface Personality {
  provider: SimProvider;
  sim: Simulator;
  errors: PersonalityErrors;
}

interface AjvIssue {
  keyword: string;
  instancePath: string;
  params: { missingProperty?: string; additionalProperty?: string };
  message?: string;
}

function validationIssue(error: FastifyError): ValidationIssue {
  const issue = (error.validation as AjvIssue[] | undefined)?.[0];
  const path = issue?.instancePath.replace(/^\//, '').replace(/\//g, '.') ?? '';
  const join = (name: string | undefined) => [path, name].filter(Boolean).join('.');
  if (issue?.keyword === 'required') {
    const param = join(issue.params.missingProperty);
    return { kind: 'missing', param, message: `Missing required param: ${param}.` };
  }
  if (issue?.keyword === 'additionalProperties') {
    const param = join(issue.params.additionalProperty);
    return { kind: 'unknown', param, message: `Received unknown parameter: ${param}.` };
  }
  return { kind: 'invalid', param: path, message: `Invalid ${path || 'request'}: ${issue?.message ?? error.message}.` };
}

/** Our payment ids (`pay_…`) as our keys and lookups carry them. */
const paymentIdPattern = /pay_[A-Za-z0-9_-]+/;

function decoded(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}

/**
 * The payment of ours a request is about, for faults aimed at one payment: our idempotency keys
 * start with its id, a charge search or a request lookup names it, a charge's routes name its
 * charge. Read before the body is parsed: a refund is known by its key alone.
 */
function paymentOf(sim: Simulator, request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'] ?? request.headers['paypal-request-id'];
  const named = paymentIdPattern.exec(`${typeof key === 'string' ? key : ''} ${decoded(request.url)}`);
  if (named) return named[0];
  const { id } = (request.params ?? {}) as { id?: unknown };
  const { charge } = (request.query ?? {}) as { charge?: unknown };
  const chargeId = typeof id === 'string' ? id : typeof charge === 'string' ? charge : undefined;
  return chargeId === undefined ? undefined : sim.findCharge(chargeId)?.paymentId;
}

const send = (reply: FastifyReply, response: SimResponse) => reply.code(response.status).send(response.body);

/** Aborts when the client goes away, so a held-open request does not outlive its caller. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => controller.abort());
  return controller.signal;
}

export function installPersonality(app: FastifyInstance, { provider, sim, errors }: Personality): void {
  // Requests processed under a timeout fault whose answers wait until their callers are gone.
  const lostAnswers = new WeakMap<FastifyRequest, AbortSignal>();

  app.addHook('onRequest', async (request, reply) => {
    const processor = sim.processors[provider];
    processor.stats.requests++;
    const decision = sim.faults.decide(provider, sim.now());
    if (decision.latencyMs > 0) await sim.sleep(decision.latencyMs, clientGone(reply));
    if (decision.unavailable) {
      processor.stats.injected_faults++;
      return send(reply, errors.unavailable());
    }
    const operation = request.routeOptions.config.operation;
    const timeout =
      operation === undefined ? undefined : sim.faults.takeTimeout(provider, operation, paymentOf(sim, request));
    if (!timeout) return;
    processor.stats.timeouts++;
    if (timeout.processed) {
      lostAnswers.set(request, clientGone(reply));
      return;
    }
    await sim.sleep(sim.options.hangMs, clientGone(reply));
    return send(reply, errors.timedOut());
  });

  app.addHook('onSend', async (request, _reply, payload) => {
    const gone = lostAnswers.get(request);
    if (gone) await sim.sleep(sim.options.hangMs, gone);
    return payload;
  });

  // Capture and void may come without a body; the schemas then see an empty object.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || request.body === null) request.body = {};
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error.validation) return send(reply, errors.validation(validationIssue(error)));
    if (error.code?.startsWith('FST_ERR_CTP_')) return send(reply, errors.invalidJson());
    return send(reply, errors.internal());
  });

  app.setNotFoundHandler((request, reply) => send(reply, errors.routeNotFound(request.method, request.url)));
}

/**
 * Answers with the stored response when the key was seen; otherwise runs the operation and
 * stores its answer, unless it is transient (5xx, 409), which a retry must run again.
 */
export async function answerOnce(
  { provider, sim, errors }: Personality,
  request: FastifyRequest,
  reply: FastifyReply,
  key: string | undefined,
  run: () => Promise<SimResponse> | SimResponse,
): Promise<FastifyReply> {
  if (key === undefined) return send(reply, await run());
  const store = sim.idempotency[provider];
  const admission = store.admit(key, requestFingerprint(request.method, request.url, request.body));
  switch (admission.kind) {
    case 'replay':
      sim.processors[provider].stats.replays++;
      return send(reply.header('idempotent-replayed', 'true'), admission.response);
    case 'mismatch':
      return send(reply, errors.keyReused());
    case 'running':
      return send(reply, errors.inProgress());
  }
  let response: SimResponse;
  try {
    response = await run();
  } catch (error) {
    store.finish(key, { status: 500, body: null }, false);
    throw error;
  }
  store.finish(key, response, response.status < 500 && response.status !== 409);
  return send(reply, response);
}
