import { Agent, request } from 'undici';
import { PaymentsError } from '../domain/errors.ts';
import { ProviderUnavailableError } from './provider.ts';
import { maxApiAmountMinor } from '../domain/money.ts';
import type { PaymentProvider, ProviderName } from './provider.ts';

// The one way adapters talk to a provider: JSON over undici with a deadline on the whole
// exchange (connect, headers and body). Anything that says "the provider could not answer"
// (timeout, refused or reset connection, 5xx, 429) becomes provider_unavailable, which the
// caller retries with the same idempotency key; other statuses go back to the adapter.

export interface HttpClientOptions {
  provider: ProviderName;
  /** e.g. http://127.0.0.1:4010/stripe; request paths are appended to it. */
  baseUrl: string;
  /** Deadline for one request: connecting, waiting for headers and reading the body together. */
  timeoutMs: number;
  /** Sent with every request (credentials, API version). */
  headers?: Record<string, string>;
  /** Sockets kept open to the provider. */
  maxConnections?: number;
  /** A bigger answer is treated as a broken provider, not buffered. */
  maxResponseBytes?: number;
}

export interface HttpResponse {
  status: number;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
}

export interface HttpClient {
  send(
    method: 'GET' | 'POST',
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<HttpResponse>;
  close(): Promise<void>;
}

const defaultMaxConnections = 32;
const defaultMaxResponseBytes = 1024 * 1024;

// undici's own codes for a connection that failed or a deadline that passed.
/** Failures before a connection existed: the provider never saw the request. */
const neverSentCodes = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT']);

const unreachableCodes = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_ABORTED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const { provider, timeoutMs } = options;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const maxResponseBytes = options.maxResponseBytes ?? defaultMaxResponseBytes;
  const agent = new Agent({
    connect: { timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connections: options.maxConnections ?? defaultMaxConnections,
  });

  async function send(
    method: 'GET' | 'POST',
    path: string,
    { body, headers }: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<HttpResponse> {
    const deadline = AbortSignal.timeout(timeoutMs);
    let status: number;
    let text: string;
    try {
      const response = await request(`${baseUrl}${path}`, {
        dispatcher: agent,
        method,
        signal: deadline,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      status = response.statusCode;
      text = await readText(response.body, maxResponseBytes);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const neverSent = typeof code === 'string' && neverSentCodes.has(code) && !deadline.aborted;
      throw new ProviderUnavailableError(describeFailure(provider, error, deadline, timeoutMs), !neverSent);
    }
    if (status === 429 || status >= 500) {
      // 503 and 429 say the request was turned away; other 5xx leave its fate open.
      throw new ProviderUnavailableError(
        `${provider} answered ${status}${summary(text)}.`,
        status !== 503 && status !== 429,
        true,
      );
    }
    if (text === '') return { status, body: undefined };
    try {
      return { status, body: JSON.parse(text) as unknown };
    } catch {
      throw new PaymentsError('provider_unavailable', `${provider} answered ${status} with a body that is not JSON.`);
    }
  }

  let closing: Promise<void> | undefined;
  // Idempotent: waits for requests in flight, then releases the sockets.
  return { send, close: () => (closing ??= agent.close()) };
}

async function readText(body: AsyncIterable<Buffer>, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(`answer larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeFailure(provider: ProviderName, error: unknown, deadline: AbortSignal, timeoutMs: number): string {
  const code = (error as { code?: unknown }).code;
  if (deadline.aborted || (typeof code === 'string' && code.endsWith('_TIMEOUT'))) {
    return `${provider} did not answer within ${timeoutMs} ms.`;
  }
  if (typeof code === 'string' && unreachableCodes.has(code)) return `${provider} is unreachable (${code}).`;
  return `${provider} request failed: ${error instanceof Error ? error.message : String(error)}.`;
}

// Enough of a 5xx body to tell an outage from a bug in logs, never a whole page.
function summary(text: string): string {
  const trimmed = text.trim().slice(0, 200);
  return trimmed === '' ? '' : `: ${trimmed}`;
}

/** A PaymentProvider reached over HTTP; close() releases its sockets. */
export interface HttpPaymentProvider extends PaymentProvider {
  close(): Promise<void>;
}

/** The body of a successful answer, checked against its schema: a provider that changes shape is an outage. */
export function expectBody<T>(
  provider: ProviderName,
  validator: { Check(value: unknown): value is T },
  response: HttpResponse,
): T {
  if (!validator.Check(response.body)) {
    throw new PaymentsError('provider_unavailable', `${provider} answered ${response.status} with an unexpected body.`);
  }
  return response.body;
}

/** Refuses amounts a provider cannot be sent as exact JSON numbers or that mean nothing (≤ 0). */
export function assertSendableAmount(amount: bigint): void {
  if (amount <= 0n) throw new PaymentsError('parameter_invalid', 'Amounts must be positive.', 'amount');
  if (amount > maxApiAmountMinor) {
    throw new PaymentsError('amount_too_large', `Amounts above ${maxApiAmountMinor} cannot be sent.`, 'amount');
  }
}
