// A FIFO mutex for workflow code. Money-moving steps of one payment never interleave: update
// handlers, signal handlers and the main flow queue on one promise chain. A flag plus
// condition() is not enough: the SDK may wake every waiter whose condition holds in the same
// activation. Deterministic: it uses nothing but promises.

export class FifoLock {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;

  run<T>(step: () => Promise<T>): Promise<T> {
    this.queued += 1;
    const result = this.tail.then(step).finally(() => {
      this.queued -= 1;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** No step running or waiting. */
  idle(): boolean {
    return this.queued === 0;
  }
}
