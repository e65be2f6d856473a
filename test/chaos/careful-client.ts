import { Agent, request } from 'undici';
import type { Random } from './seeded-random.ts';

// The client a merchant's checkout should be: every POST carries an Idempotency-Key, and a
// request that got no answer, a 5xx, a 429 or a 409 idempotency_request_in_progress is sent
// again with the same key (never a new one, which could make a second payment), a bounded
// number of times within a bounded time.

export interface Answer {
  /** 0 when no answer came at all (every attempt failed on the network). */
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  attempts: number;
}

export interface CarefulClientSettings {
  baseUrl: string;
  apiKey: string;
  random: Random;
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** All attempts of one request together. */
  requestBudgetMs: number;
  /** One attempt; longer than the API's own answer deadline (PAYMENT_WAIT_MS plus its margin). */
  attemptTimeoutMs: number;
}

export interface CarefulClient {
  post(path: string, body: object, idempotencyKey: string): Promise<Answer>;
  get(path: string): Promise<Answer>;
  close(): Promise<void>;
  /** Attempts that were retries, over every request so far. */
  retries(): number;
}

const backoffFloorMs = 100;
const backoffCeilingMs = 2_000;

function retryable(answer: Answer): boolean {
  if (answer.status === 0 || answer.status >= 500 || answer.status === 429) return true;
  return answer.status === 409 && answer.body?.error?.code === 'idempotency_request_in_progress';
}

export function carefulClient(settings: CarefulClientSettings): CarefulClient {
  const agent = new Agent({ connections: 256, headersTimeout: settings.attemptTimeoutMs });
  let retries = 0;

  const attempt = async (method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string) => {
    try {
      const response = await request(`${settings.baseUrl}${path}`, {
        dispatcher: agent,
        method,
        headers: { authorization: `Bearer ${settings.apiKey}`, ...headers },
        body,
        signal: AbortSignal.timeout(settings.attemptTimeoutMs),
      });
      const text = await response.body.text();
      return { status: response.statusCode, body: text ? (JSON.parse(text) as unknown) : null };
    } catch {
      return { status: 0, body: null };
    }
  };

  const send = async (method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string) => {
    const deadline = Date.now() + settings.requestBudgetMs;
    let answer: Answer = { status: 0, body: null, attempts: 0 };
    for (let attempts = 1; attempts <= settings.maxAttempts; attempts++) {
      answer = { ...(await attempt(method, path, headers, body)), attempts };
      if (!retryable(answer) || Date.now() >= deadline) return answer;
      retries += 1;
      const backoffMs = Math.min(backoffCeilingMs, backoffFloorMs * 1.6 ** attempts) * (0.5 + settings.random());
      await new Promise((resolve) => setTimeout(resolve, Math.min(backoffMs, Math.max(0, deadline - Date.now()))));
    }
    return answer;
  };

  return {
    post: (path, body, idempotencyKey) =>
      send(
        'POST',
        path,
        { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        JSON.stringify(body),
      ),
    get: (path) => send('GET', path, {}),
    close: () => agent.close(),
    retries: () => retries,
  };
}
