// A loop that runs one pass every intervalMs, or at once again while a pass reports more work
// (a backlog). A failing pass is logged and retried next tick, or with exponential backoff when
// `retry` is given; stop() waits for the pass in progress. Used by the outbox relay, the
// webhook inbox sweeper and the event stream publisher.

export interface PollLoop {
  stop(): Promise<void>;
}

export interface PollLogger {
  error(details: Record<string, unknown>, message: string): void;
}

export function stderrLogger(name: string): PollLogger {
  return {
    error: (details, message) => {
      const err = details.err instanceof Error ? (details.err.stack ?? details.err.message) : String(details.err);
      process.stderr.write(`[${name}] ${message}: ${err}\n`);
    },
  };
}

function retryDelayMs(options: { intervalMs: number; retry?: { initialMs: number; maxMs: number } }, failures: number) {
  if (!options.retry) return options.intervalMs;
  // 2 ** 30 already exceeds any sensible maximum; capping the exponent keeps the number finite.
  return Math.min(options.retry.maxMs, options.retry.initialMs * 2 ** Math.min(failures - 1, 30));
}

/** Node's timers hold 32-bit signed milliseconds; a longer delay silently becomes 1 ms (a busy loop). */
export const maxTimerDelayMs = 2 ** 31 - 1;

export function startPollLoop(options: {
  intervalMs: number;
  /** Resolves true when there is more to do right away. */
  pass: () => Promise<boolean>;
  log: PollLogger;
  /** After failed passes wait initialMs, doubling up to maxMs, instead of intervalMs. */
  retry?: { initialMs: number; maxMs: number };
}): PollLoop {
  for (const delayMs of [options.intervalMs, options.retry?.initialMs ?? 1, options.retry?.maxMs ?? 1]) {
    if (!Number.isSafeInteger(delayMs) || delayMs < 1 || delayMs > maxTimerDelayMs) {
      throw new Error(`poll loop delays must be whole milliseconds from 1 to ${maxTimerDelayMs}, got ${delayMs}`);
    }
  }
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> | undefined;

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      pass = run().finally(() => {
        pass = undefined;
      });
    }, delayMs);
  };

  const run = async () => {
    let more = false;
    try {
      more = await options.pass();
      failures = 0;
    } catch (err) {
      failures++;
      options.log.error({ err }, 'pass failed; retried next tick');
    }
    schedule(more ? 0 : failures > 0 ? retryDelayMs(options, failures) : options.intervalMs);
  };

  schedule(0);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await pass;
    },
  };
}
