import { isCurrencyCode } from '../domain/money.ts';
import { BoundedMap } from './bounded-map.ts';

// Payouts to merchants' banks, as a processor runs them: accepted at once (`pending`), then,
// `arrivalMs` later, paid or returned by the bank (`failed`, as often as the payout failure
// fault says), each outcome announced by a webhook. The personality translates requests,
// answers and events into its own shapes.

export type SimPayoutStatus = 'pending' | 'paid' | 'failed';

export interface SimPayout {
  id: string;
  /** Our payout id, from the request's metadata (payout_id). */
  payoutId: string | undefined;
  metadata: Record<string, string>;
  amount: bigint;
  /** ISO 4217, upper case. */
  currency: string;
  description: string | undefined;
  status: SimPayoutStatus;
  /** The bank's reason for a failed payout. */
  failureCode: string | undefined;
  createdAtMs: number;
  arrivalAtMs: number;
  updatedAtMs: number;
}

export interface SimPayoutEvent {
  type: 'payout.paid' | 'payout.failed';
  payout: SimPayout;
}

export type PayoutRefusal = { kind: 'unknown_currency' } | { kind: 'amount_too_large'; limit: bigint };

export type PayoutOutcome = { ok: true; value: SimPayout } | { ok: false; failure: PayoutRefusal };

export interface PayoutDeskSettings {
  /** Payouts kept; the oldest are forgotten (and answer 404) beyond this. */
  maxPayouts: number;
  maxAmountMinor: bigint;
  /** From acceptance to the bank's answer. */
  arrivalMs: number;
  now: () => number;
}

export interface PayoutStats {
  /** Payouts accepted (created). */
  payouts: number;
  paid: number;
  failed: number;
}

const emptyStats = (): PayoutStats => ({ payouts: 0, paid: 0, failed: 0 });

/** Why the simulated bank returns a payout (Stripe's code for a closed account). */
const bankFailureCode = 'account_closed';

export class PayoutDesk {
  stats: PayoutStats = emptyStats();
  private readonly payouts: BoundedMap<string, SimPayout>;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly settings: PayoutDeskSettings,
    private readonly newId: () => string,
    /** The share (0..1) of payouts the bank returns, read when each one arrives (a fault). */
    private readonly failureRate: () => number,
    private readonly emit: (event: SimPayoutEvent) => void,
    private readonly random: () => number = Math.random,
  ) {
    this.payouts = new BoundedMap(settings.maxPayouts);
  }

  create(input: {
    amount: bigint;
    currency: string;
    description: string | undefined;
    metadata: Record<string, string>;
  }): PayoutOutcome {
    if (!isCurrencyCode(input.currency)) return { ok: false, failure: { kind: 'unknown_currency' } };
    if (input.amount > this.settings.maxAmountMinor) {
      return { ok: false, failure: { kind: 'amount_too_large', limit: this.settings.maxAmountMinor } };
    }
    const nowMs = this.settings.now();
    const payout: SimPayout = {
      id: this.newId(),
      payoutId: input.metadata.payout_id,
      metadata: input.metadata,
      amount: input.amount,
      currency: input.currency,
      description: input.description,
      status: 'pending',
      failureCode: undefined,
      createdAtMs: nowMs,
      arrivalAtMs: nowMs + this.settings.arrivalMs,
      updatedAtMs: nowMs,
    };
    this.payouts.set(payout.id, payout);
    this.stats.payouts++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.arrive(payout.id);
    }, this.settings.arrivalMs);
    this.timers.add(timer);
    return { ok: true, value: payout };
  }

  get(id: string): SimPayout | undefined {
    return this.payouts.get(id);
  }

  /** The payout made for our payout id (its metadata), as a search by metadata finds it. */
  find(payoutId: string): SimPayout | undefined {
    for (const payout of this.payouts.values()) if (payout.payoutId === payoutId) return payout;
    return undefined;
  }

  all(): IterableIterator<SimPayout> {
    return this.payouts.values();
  }

  /** Forgets payouts and counters; payouts not arrived yet never will. */
  reset(): void {
    this.close();
    this.payouts.clear();
    this.stats = emptyStats();
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private arrive(id: string): void {
    const payout = this.payouts.get(id);
    if (!payout || payout.status !== 'pending') return;
    const failed = this.random() < this.failureRate();
    Object.assign(payout, {
      status: failed ? 'failed' : 'paid',
      failureCode: failed ? bankFailureCode : undefined,
      updatedAtMs: this.settings.now(),
    });
    if (failed) this.stats.failed++;
    else this.stats.paid++;
    this.emit({ type: failed ? 'payout.failed' : 'payout.paid', payout });
  }
}
