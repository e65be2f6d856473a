import { isCurrencyCode } from '../domain/money.ts';
import { BoundedMap } from './bounded-map.ts';
import { testCard, type DeclineCode } from './cards.ts';
import type { SimProvider } from './options.ts';

// The card processor behind both personalities: charges, captures, voids, refunds and
// disputes in minor units, with the rules a real processor enforces. The personalities only
// translate requests, answers and events into Stripe's or PayPal's shapes.

export type SimChargeStatus = 'authorized' | 'captured' | 'voided' | 'declined';

export interface SimRefund {
  id: string;
  chargeId: string;
  amount: bigint;
  /** The caller's own keys (Stripe's refund metadata); empty when none were sent. */
  metadata: Record<string, string>;
  createdAtMs: number;
}

export interface SimDispute {
  id: string;
  chargeId: string;
  amount: bigint;
  reason: string;
  createdAtMs: number;
}

export interface SimCharge {
  provider: SimProvider;
  id: string;
  /** Our payment id: Stripe's metadata.payment_id, PayPal's custom_id. */
  paymentId: string | undefined;
  metadata: Record<string, string>;
  token: string;
  brand: string;
  last4: string;
  /** ISO 4217, upper case. */
  currency: string;
  amount: bigint;
  status: SimChargeStatus;
  declineCode: DeclineCode | undefined;
  amountCaptured: bigint;
  refunds: SimRefund[];
  disputes: SimDispute[];
  createdAtMs: number;
  capturedAtMs: number | undefined;
  updatedAtMs: number;
}

export type StateProblem = 'already_captured' | 'voided' | 'declined' | 'not_captured' | 'fully_refunded';

export type SimFailure =
  | { kind: 'unknown_token' }
  | { kind: 'unknown_currency' }
  | { kind: 'declined'; code: DeclineCode; charge: SimCharge }
  | { kind: 'transient' }
  | { kind: 'hang' }
  | { kind: 'not_found' }
  | { kind: 'amount_too_large'; limit: bigint }
  | { kind: 'currency_mismatch' }
  | { kind: 'state'; problem: StateProblem };

export type Outcome<T> = { ok: true; value: T } | { ok: false; failure: SimFailure };

export type SimEvent =
  | { type: 'charge.succeeded' | 'charge.failed' | 'charge.captured' | 'charge.voided'; charge: SimCharge }
  | { type: 'charge.refunded'; charge: SimCharge; refund: SimRefund }
  | { type: 'dispute.created'; charge: SimCharge; dispute: SimDispute };

export interface ProcessorStats {
  /** Every request to the personality, faults and replays included. */
  requests: number;
  /** Charges created (approved); declines are counted apart. */
  charges: number;
  declines: number;
  /** Successful capture calls; a charge created with capture: true counts in `charges` only. */
  captures: number;
  voids: number;
  refunds: number;
  disputes: number;
  /** Requests answered from the idempotency store. */
  replays: number;
  /** 503 answers from fault injection (error rate or outage). */
  injected_faults: number;
  /** 500 answers to tok_processingError. */
  transient_errors: number;
  /** tok_timeout requests held open. */
  timeouts: number;
}

export interface IdFactory {
  charge(): string;
  refund(): string;
  dispute(): string;
}

export interface ProcessorSettings {
  maxCharges: number;
  /** Bounds the tok_processingError attempt counters like the idempotency keys. */
  maxIdempotencyKeys: number;
  maxChargeAmountMinor: bigint;
  now: () => number;
}

export interface AuthorizeInput {
  amount: bigint;
  currency: string;
  token: string;
  capture: boolean;
  paymentId: string | undefined;
  metadata: Record<string, string>;
  /** Counts tok_processingError attempts: the idempotency key, else the payment id. */
  attemptKey: string;
}

const emptyStats = (): ProcessorStats => ({
  requests: 0,
  charges: 0,
  declines: 0,
  captures: 0,
  voids: 0,
  refunds: 0,
  disputes: 0,
  replays: 0,
  injected_faults: 0,
  transient_errors: 0,
  timeouts: 0,
});

const fail = (failure: SimFailure): { ok: false; failure: SimFailure } => ({ ok: false, failure });
const state = (problem: StateProblem) => fail({ kind: 'state', problem });

export function refundedTotal(charge: SimCharge): bigint {
  return charge.refunds.reduce((total, refund) => total + refund.amount, 0n);
}

export class Processor {
  stats: ProcessorStats = emptyStats();
  private readonly charges: BoundedMap<string, SimCharge>;
  private readonly transientAttempts: BoundedMap<string, number>;

  constructor(
    readonly provider: SimProvider,
    private readonly settings: ProcessorSettings,
    private readonly ids: IdFactory,
    private readonly emit: (event: SimEvent) => void,
  ) {
    this.charges = new BoundedMap(settings.maxCharges);
    this.transientAttempts = new BoundedMap(settings.maxIdempotencyKeys);
  }

  authorize(input: AuthorizeInput): Outcome<SimCharge> {
    const card = testCard(input.token);
    if (!card) return fail({ kind: 'unknown_token' });
    if (!isCurrencyCode(input.currency)) return fail({ kind: 'unknown_currency' });
    if (input.amount > this.settings.maxChargeAmountMinor) {
      return fail({ kind: 'amount_too_large', limit: this.settings.maxChargeAmountMinor });
    }
    const { behaviour } = card;
    if (behaviour.kind === 'hang') {
      this.stats.timeouts++;
      return fail({ kind: 'hang' });
    }
    if (behaviour.kind === 'transient') {
      const attempts = (this.transientAttempts.get(input.attemptKey) ?? 0) + 1;
      this.transientAttempts.set(input.attemptKey, attempts);
      if (attempts <= behaviour.failures) {
        this.stats.transient_errors++;
        return fail({ kind: 'transient' });
      }
    }
    const nowMs = this.settings.now();
    const declined = behaviour.kind === 'decline';
    const captured = !declined && input.capture;
    const charge: SimCharge = {
      provider: this.provider,
      id: this.ids.charge(),
      paymentId: input.paymentId,
      metadata: input.metadata,
      token: input.token,
      brand: card.brand,
      last4: card.last4,
      currency: input.currency,
      amount: input.amount,
      status: declined ? 'declined' : captured ? 'captured' : 'authorized',
      declineCode: declined ? behaviour.code : undefined,
      amountCaptured: captured ? input.amount : 0n,
      refunds: [],
      disputes: [],
      createdAtMs: nowMs,
      capturedAtMs: captured ? nowMs : undefined,
      updatedAtMs: nowMs,
    };
    this.charges.set(charge.id, charge);
    if (behaviour.kind === 'decline') {
      this.stats.declines++;
      this.emit({ type: 'charge.failed', charge });
      return fail({ kind: 'declined', code: behaviour.code, charge });
    }
    this.stats.charges++;
    this.emit({ type: 'charge.succeeded', charge });
    return { ok: true, value: charge };
  }

  /** Captures `amount` (default: all) once; the uncaptured rest of the authorization is released. */
  capture(id: string, request: { amount?: bigint; currency?: string }): Outcome<SimCharge> {
    const charge = this.charges.get(id);
    if (!charge) return fail({ kind: 'not_found' });
    if (charge.status !== 'authorized') {
      return state(charge.status === 'captured' ? 'already_captured' : charge.status);
    }
    if (request.currency !== undefined && request.currency !== charge.currency)
      return fail({ kind: 'currency_mismatch' });
    const amount = request.amount ?? charge.amount;
    if (amount > charge.amount) return fail({ kind: 'amount_too_large', limit: charge.amount });
    const nowMs = this.settings.now();
    Object.assign(charge, { status: 'captured', amountCaptured: amount, capturedAtMs: nowMs, updatedAtMs: nowMs });
    this.stats.captures++;
    this.emit({ type: 'charge.captured', charge });
    return { ok: true, value: charge };
  }

  /** Releases an uncaptured authorization. */
  void(id: string): Outcome<SimCharge> {
    const charge = this.charges.get(id);
    if (!charge) return fail({ kind: 'not_found' });
    if (charge.status === 'captured') return state('already_captured');
    if (charge.status === 'voided') return state('voided');
    if (charge.status === 'declined') return state('declined');
    Object.assign(charge, { status: 'voided', updatedAtMs: this.settings.now() });
    this.stats.voids++;
    this.emit({ type: 'charge.voided', charge });
    return { ok: true, value: charge };
  }

  /** Refunds `amount` (default: what remains); never more than captured minus refunded. */
  refund(
    id: string,
    request: { amount?: bigint; currency?: string; metadata?: Record<string, string> },
  ): Outcome<{ charge: SimCharge; refund: SimRefund }> {
    const charge = this.charges.get(id);
    if (!charge) return fail({ kind: 'not_found' });
    if (charge.status !== 'captured') return state(charge.status === 'voided' ? 'voided' : 'not_captured');
    if (request.currency !== undefined && request.currency !== charge.currency)
      return fail({ kind: 'currency_mismatch' });
    const remaining = charge.amountCaptured - refundedTotal(charge);
    if (remaining === 0n) return state('fully_refunded');
    const amount = request.amount ?? remaining;
    if (amount > remaining) return fail({ kind: 'amount_too_large', limit: remaining });
    const nowMs = this.settings.now();
    const refund: SimRefund = {
      id: this.ids.refund(),
      chargeId: charge.id,
      amount,
      metadata: request.metadata ?? {},
      createdAtMs: nowMs,
    };
    charge.refunds.push(refund);
    charge.updatedAtMs = nowMs;
    this.stats.refunds++;
    this.emit({ type: 'charge.refunded', charge, refund });
    return { ok: true, value: { charge, refund } };
  }

  /** A cardholder disputes part or all of a captured charge (triggered from the admin API). */
  dispute(id: string, amount: bigint, reason: string): Outcome<{ charge: SimCharge; dispute: SimDispute }> {
    const charge = this.charges.get(id);
    if (!charge) return fail({ kind: 'not_found' });
    if (charge.status !== 'captured') return state('not_captured');
    if (amount > charge.amountCaptured) return fail({ kind: 'amount_too_large', limit: charge.amountCaptured });
    const nowMs = this.settings.now();
    const dispute: SimDispute = { id: this.ids.dispute(), chargeId: charge.id, amount, reason, createdAtMs: nowMs };
    charge.disputes.push(dispute);
    charge.updatedAtMs = nowMs;
    this.stats.disputes++;
    this.emit({ type: 'dispute.created', charge, dispute });
    return { ok: true, value: { charge, dispute } };
  }

  get(id: string): SimCharge | undefined {
    return this.charges.get(id);
  }

  all(): IterableIterator<SimCharge> {
    return this.charges.values();
  }

  reset(): void {
    this.charges.clear();
    this.transientAttempts.clear();
    this.stats = emptyStats();
  }
}
