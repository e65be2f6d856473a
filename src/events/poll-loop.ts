// A loop that runs one pass every intervalMs, or at once again while a pass reports more work
// (a backlog). A failing pass is logged and retried next tick; stop() waits for the pass in
// progress. Used by the outbox relay and the webhook inbox sweeper.

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

export function startPollLoop(options: {
  intervalMs: number;
  /** Resolves true when there is more to do right away. */
  pass: () => Promise<boolean>;
  log: PollLogger;
}): PollLoop {
  let stopped = false;
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
    } catch (err) {
      options.log.error({ err }, 'pass failed; retried next tick');
    }
    schedule(more ? 0 : options.intervalMs);
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
