// The demo's HTTP client: every request has a deadline and names the answers it expects, so an
// unexpected one stops the demo with what was asked and what came back.

/** Longer than the API's own answer deadline (PAYMENT_WAIT_MS, 10 s, plus its 2 s margin). */
export const requestTimeoutMs = 20_000;
/** How much of an unexpected answer's body the error quotes. */
const quotedBodyChars = 600;

export class DemoFailure extends Error {
  override name = 'DemoFailure';
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** The statuses this step expects; any other is a failure. */
  expect: readonly number[];
}

export interface JsonAnswer<T> {
  status: number;
  body: T;
}

export class JsonClient {
  constructor(
    private readonly baseUrl: string,
    private readonly defaultHeaders: Record<string, string> = {},
  ) {}

  withHeaders(headers: Record<string, string>): JsonClient {
    return new JsonClient(this.baseUrl, { ...this.defaultHeaders, ...headers });
  }

  async send<T>(method: string, path: string, options: RequestOptions): Promise<JsonAnswer<T>> {
    const headers: Record<string, string> = { ...this.defaultHeaders, ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new DemoFailure(`${method} ${this.baseUrl}${path}: no answer (${cause})`);
    }
    const text = await response.text();
    if (!options.expect.includes(response.status)) {
      throw new DemoFailure(
        `${method} ${path} answered ${response.status}, expected ${options.expect.join(' or ')}: ${text.slice(0, quotedBodyChars)}`,
      );
    }
    try {
      return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as T };
    } catch {
      throw new DemoFailure(`${method} ${path} answered ${response.status} with a body that is not JSON`);
    }
  }

  get<T>(path: string, expect: readonly number[] = [200]): Promise<T> {
    return this.send<T>('GET', path, { expect }).then((answer) => answer.body);
  }

  post<T>(path: string, body: unknown, options: Omit<RequestOptions, 'body'>): Promise<JsonAnswer<T>> {
    return this.send<T>('POST', path, { ...options, body });
  }
}

/** Polls `check` until it returns a value, or fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  { timeoutMs, intervalMs = 200 }: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new DemoFailure(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The expected value, or a failure saying what was seen instead. */
export function expectEqual<T>(what: string, actual: T, expected: T): T {
  if (actual !== expected) {
    throw new DemoFailure(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
  return actual;
}
