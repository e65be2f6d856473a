import type { FastifyReply } from 'fastify';

// A request that waits on a workflow answers by a deadline: its wait (PAYMENT_WAIT_MS,
// DEPOSIT_WAIT_MS) counted from its arrival, plus at most `answerMarginMs` for what follows
// the wait. Without one, an update that no worker picks up, or a Temporal that cannot be
// reached, held the request until the HTTP server's own timeout closed the connection with no
// status at all. The Temporal side of it is in temporal-deadlines.ts.

/** The longest any such answer comes after its wait ends. */
export const answerMarginMs = 2_000;

// The margin is shared out by points after the deadline, each step cut at its own, so that
// under load, when every step is slow, they do not add up past it:

/** A create whose update gave no answer learns by then whether its workflow exists… */
export const startCheckGraceMs = 500;

/** …the read model's current state is read by then, or the answer uses what it has… */
export const readModelGraceMs = 1_000;

/**
 * …then the idempotency key of a 202 or 5xx is released (at most 500 ms, see idempotency.ts),
 * and what is left (about 500 ms) is for the reply itself and a busy event loop.
 */

/** The deadline, in epoch ms, of a request that may wait `waitMs` from its arrival. */
export function deadlineAfter(reply: FastifyReply, waitMs: number): number {
  return Date.now() - reply.elapsedTime + waitMs;
}

/**
 * The promise's value if it settles by `at` (epoch ms), else undefined; it goes on without us,
 * and a rejection after that is ignored. For work whose answer is welcome but not needed.
 */
export async function settledBy<T>(promise: Promise<T>, at: number): Promise<T | undefined> {
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), at - Date.now());
  });
  try {
    return await Promise.race([promise, cut]);
  } finally {
    clearTimeout(timer);
  }
}
