import { afterEach, describe, expect, it, vi } from 'vitest';
import { maxTimerDelayMs, startPollLoop } from '../../src/events/poll-loop.ts';
import { loadConfig } from '../../src/config.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('poll loop', () => {
  it('backs off after failed passes (initial, doubling, capped) and returns to its interval after a success', async () => {
    vi.useFakeTimers();
    const startedAt = Date.now();
    const calls: number[] = [];
    let failuresLeft = 4;
    const errors: string[] = [];
    const loop = startPollLoop({
      intervalMs: 1_000,
      retry: { initialMs: 100, maxMs: 300 },
      log: { error: (_details, message) => errors.push(message) },
      pass: async () => {
        calls.push(Date.now() - startedAt);
        if (failuresLeft-- > 0) throw new Error('broker down');
        return false;
      },
    });
    await vi.advanceTimersByTimeAsync(2_000);
    await loop.stop();
    // Fails at 0, then waits 100, 200, 300 (capped), 300; succeeds at 900; next pass a full interval later.
    expect(calls).toEqual([0, 100, 300, 600, 900, 1_900]);
    expect(errors).toHaveLength(4);
  });

  it('without retry settings, a failed pass is retried after the interval', async () => {
    vi.useFakeTimers();
    const startedAt = Date.now();
    const calls: number[] = [];
    const loop = startPollLoop({
      intervalMs: 250,
      log: { error: () => {} },
      pass: async () => {
        calls.push(Date.now() - startedAt);
        throw new Error('down');
      },
    });
    await vi.advanceTimersByTimeAsync(600);
    await loop.stop();
    expect(calls).toEqual([0, 250, 500]);
  });
});

describe('poll loop delays', () => {
  const noop = { pass: async () => false, log: { error: () => undefined } };

  it('refuses a delay Node would turn into 1 ms, or none at all', () => {
    for (const intervalMs of [2 ** 31, 30 * 24 * 60 * 60 * 1000, 0, 1.5]) {
      expect(() => startPollLoop({ ...noop, intervalMs })).toThrow(/from 1 to 2147483647/);
    }
    expect(() => startPollLoop({ ...noop, intervalMs: 10, retry: { initialMs: 10, maxMs: 2 ** 31 } })).toThrow(
      /from 1 to 2147483647/,
    );
  });

  it('runs at the longest delay a timer holds', async () => {
    const loop = startPollLoop({ ...noop, intervalMs: maxTimerDelayMs });
    await loop.stop();
  });
});

describe('timer settings', () => {
  it('refuses EVENT_RELAY_INTERVAL_MS past 2^31 - 1 ms', () => {
    const saved = process.env.EVENT_RELAY_INTERVAL_MS;
    process.env.EVENT_RELAY_INTERVAL_MS = String(30 * 24 * 60 * 60 * 1000);
    try {
      expect(() => loadConfig()).toThrow('EVENT_RELAY_INTERVAL_MS must be from 1 to 2147483647');
    } finally {
      if (saved === undefined) delete process.env.EVENT_RELAY_INTERVAL_MS;
      else process.env.EVENT_RELAY_INTERVAL_MS = saved;
    }
  });
});
