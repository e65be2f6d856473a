import { createHash } from 'node:crypto';
import { BoundedMap } from './bounded-map.ts';

// Idempotency keys as the providers honour them: the first answer to a key is stored and
// every later request with that key gets it back, so a retried call never charges, captures
// or refunds twice. Transient failures (5xx, timeouts) are not stored: a retry runs again.
// A key also names what its request made (PayPal's lookup by PayPal-Request-Id reads it).

/** What a request made or changed, so a lookup by its key can show it as it is now. */
export type SimResource =
  | { kind: 'authorization'; chargeId: string }
  | { kind: 'capture'; chargeId: string }
  | { kind: 'refund'; chargeId: string; refundId: string };

export interface SimResponse {
  status: number;
  body: unknown;
  /** Kept with the stored answer, never sent. */
  resource?: SimResource;
}

type Entry = { state: 'running'; fingerprint: string } | { state: 'done'; fingerprint: string; response: SimResponse };

/** What the store knows of a key without admitting a request. */
export type KeyState = { state: 'unknown' } | { state: 'running' } | { state: 'done'; response: SimResponse };

export type Admission =
  | { kind: 'run' }
  | { kind: 'replay'; response: SimResponse }
  /** The key was first used with another request. */
  | { kind: 'mismatch' }
  /** The first request with this key has not answered yet. */
  | { kind: 'running' };

export class IdempotencyStore {
  private readonly entries: BoundedMap<string, Entry>;

  constructor(maxKeys: number) {
    this.entries = new BoundedMap(maxKeys);
  }

  admit(key: string, fingerprint: string): Admission {
    const entry = this.entries.get(key);
    if (!entry) {
      this.entries.set(key, { state: 'running', fingerprint });
      return { kind: 'run' };
    }
    if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
    return entry.state === 'running' ? { kind: 'running' } : { kind: 'replay', response: entry.response };
  }

  peek(key: string): KeyState {
    const entry = this.entries.get(key);
    if (!entry) return { state: 'unknown' };
    return entry.state === 'running' ? { state: 'running' } : { state: 'done', response: entry.response };
  }

  /** Stores the answer for replays, or frees the key when the answer must not be replayed. */
  finish(key: string, response: SimResponse, store: boolean): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    if (store) this.entries.set(key, { state: 'done', fingerprint: entry.fingerprint, response });
    else this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** What makes two requests "the same": method, path and body. */
export function requestFingerprint(method: string, url: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${url} ${JSON.stringify(body ?? null)}`)
    .digest('hex');
}
