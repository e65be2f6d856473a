import { Agent, request } from 'undici';
import { signWebhookPayload, signatureHeaderName } from './signature.ts';
import { standardWebhookHeaderValues } from './standard-signature.ts';
import { retryAfterMs } from './retry-after.ts';
import { publicOnlyConnector } from './destination-guard.ts';
import { destinationNotAllowedError, type DestinationPolicy } from './destinations.ts';

// One HTTP POST of one webhook: signed twice (our Signature header, and the Standard Webhooks
// headers: src/webhooks/standard-signature.ts), with a deadline on the whole exchange (connect,
// headers, body), no redirects followed, at most maxResponseBytes of the answer read (and
// thrown away: only the status matters), to public addresses only unless the policy allows
// private ones (checked when connecting: src/webhooks/destination-guard.ts). Never throws for
// anything the receiver does: every outcome is data, recorded as an attempt.

export interface WebhookRequest {
  url: string;
  /** The exact bytes sent and signed. */
  body: string;
  secret: string;
  /** The Standard Webhooks message id (webhook-id): the same on every attempt of one message. */
  messageId: string;
  timeoutMs: number;
  /** Unix seconds used in the signature. */
  timestampSeconds: number;
  /** Extra headers (e.g. an id the receiver can log). */
  headers?: Record<string, string>;
  /** Where the POST may connect to. */
  policy: DestinationPolicy;
}

export interface WebhookOutcome {
  /** A 2xx answer. */
  ok: boolean;
  statusCode: number | null;
  /**
   * Why there was no usable answer (timeout, connection_refused, destination_not_allowed…), or
   * a redirect; null otherwise.
   */
  error: string | null;
  durationMs: number;
  /** The wait a 429 or 503 asked for with Retry-After (src/webhooks/retry-after.ts); null otherwise. */
  retryAfterMs: number | null;
}

export const userAgent = 'payment-orchestrator-webhooks/0.1';
export const maxResponseBytes = 64 * 1024;

const agentOptions = { keepAliveTimeout: 4_000, keepAliveMaxTimeout: 30_000, connections: 16 };

// Shared by every delivery in the process, one per policy: keeps sockets to busy endpoints
// open for a while. A socket is only ever opened through its policy's check.
const agents = new Map<boolean, Agent>();
function dispatcher(policy: DestinationPolicy): Agent {
  let agent = agents.get(policy.allowPrivateDestinations);
  if (!agent) {
    agent = policy.allowPrivateDestinations
      ? new Agent(agentOptions)
      : new Agent({ ...agentOptions, connect: publicOnlyConnector() });
    agents.set(policy.allowPrivateDestinations, agent);
  }
  return agent;
}

/** Releases the sockets (tests, shutdown). */
export async function closeWebhookSender(): Promise<void> {
  const current = [...agents.values()];
  agents.clear();
  await Promise.all(current.map((agent) => agent.close()));
}

export async function sendWebhook(input: WebhookRequest): Promise<WebhookOutcome> {
  const startedAt = performance.now();
  const elapsed = () => Math.max(0, Math.round(performance.now() - startedAt));
  const deadline = AbortSignal.timeout(input.timeoutMs);
  let statusCode: number;
  let retryAfter: number | null;
  try {
    const response = await request(input.url, {
      dispatcher: dispatcher(input.policy),
      method: 'POST',
      signal: deadline,
      headersTimeout: input.timeoutMs,
      bodyTimeout: input.timeoutMs,
      headers: {
        'content-type': 'application/json',
        'user-agent': userAgent,
        [signatureHeaderName.toLowerCase()]: signWebhookPayload({
          body: input.body,
          secret: input.secret,
          timestampSeconds: input.timestampSeconds,
        }),
        ...standardWebhookHeaderValues({
          messageId: input.messageId,
          body: input.body,
          secrets: [input.secret],
          timestampSeconds: input.timestampSeconds,
        }),
        ...input.headers,
      },
      body: input.body,
    });
    statusCode = response.statusCode;
    retryAfter = retryAfterMs(statusCode, response.headers['retry-after'], Date.now());
    // The answer's body is not used; reading a little lets the socket be reused, a lot is refused.
    await response.body.dump({ limit: maxResponseBytes }).catch(() => undefined);
  } catch (error) {
    return {
      ok: false,
      statusCode: null,
      error: describeFailure(error, deadline),
      durationMs: elapsed(),
      retryAfterMs: null,
    };
  }
  const ok = statusCode >= 200 && statusCode < 300;
  const redirect = statusCode >= 300 && statusCode < 400;
  return {
    ok,
    statusCode,
    error: redirect ? 'redirect_not_followed' : null,
    durationMs: elapsed(),
    retryAfterMs: retryAfter,
  };
}

const connectionCodes: Record<string, string> = {
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  UND_ERR_SOCKET: 'connection_reset',
  UND_ERR_CLOSED: 'connection_reset',
  ENOTFOUND: 'dns_failure',
  EAI_AGAIN: 'dns_failure',
  EHOSTUNREACH: 'host_unreachable',
  ENETUNREACH: 'host_unreachable',
  ERR_DESTINATION_NOT_ALLOWED: destinationNotAllowedError,
};

/** A short, stable reason a merchant can act on; never a stack trace. */
export function describeFailure(error: unknown, deadline?: AbortSignal): string {
  const code =
    (error as { code?: unknown; cause?: { code?: unknown } }).code ??
    (error as { cause?: { code?: unknown } }).cause?.code;
  const name = (error as { name?: unknown }).name;
  if (deadline?.aborted || name === 'TimeoutError' || (typeof code === 'string' && code.endsWith('_TIMEOUT'))) {
    return 'timeout';
  }
  if (typeof code === 'string') {
    const known = connectionCodes[code];
    if (known) return known;
    if (/^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|UNABLE_TO_|SELF_SIGNED)/.test(code)) return 'tls_error';
    if (code === 'UND_ERR_INVALID_ARG' || code === 'ERR_INVALID_URL') return 'invalid_url';
  }
  return 'connection_error';
}
