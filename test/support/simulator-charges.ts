import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { toPayPalMoney } from '../../src/providers/paypal-amount.ts';
import type { SimCharge } from '../../src/provider-sim/processor.ts';
import type { SimOperation } from '../../src/provider-sim/faults.ts';
import type { ProviderName } from './simulation-schedule.ts';

// The provider simulator's side of a payment, through its admin and personality routes: the
// charge as the provider holds it, money the provider moves on its own (a refund from its
// dashboard, a cardholder's dispute) and timeouts aimed at one payment's requests.

/** A charge as GET /admin/charges shows it (src/provider-sim/admin.ts). */
export interface AdminCharge {
  provider: ProviderName;
  id: string;
  payment_id: string | null;
  status: SimCharge['status'];
  decline_code: SimCharge['declineCode'] | null;
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  currency: string;
  token: string;
  card: { brand: string; last4: string };
  refunds: { id: string; amount: number; created: string }[];
  disputes: { id: string; amount: number; reason: string; created: string }[];
  created: string;
}

export async function chargesOf(sim: FastifyInstance, paymentId: string): Promise<AdminCharge[]> {
  const response = await sim.inject({ method: 'GET', url: `/admin/charges?payment_id=${paymentId}` });
  if (response.statusCode !== 200) throw new Error(`GET /admin/charges answered ${response.statusCode}`);
  return response.json<{ data: AdminCharge[] }>().data;
}

/** The payment's one charge; more than one, or none, is an error here. */
export async function chargeOf(sim: FastifyInstance, paymentId: string): Promise<AdminCharge> {
  const charges = await chargesOf(sim, paymentId);
  if (charges.length !== 1) throw new Error(`payment ${paymentId} has ${charges.length} charges at the provider`);
  return charges[0] as AdminCharge;
}

/** The charge as the simulator's own shapes take it, to announce it again (webhook-redeliveries.ts). */
export function simChargeOf(charge: AdminCharge): SimCharge {
  const createdAtMs = Date.parse(charge.created);
  return {
    provider: charge.provider,
    id: charge.id,
    paymentId: charge.payment_id ?? undefined,
    metadata: charge.payment_id ? { payment_id: charge.payment_id } : {},
    token: charge.token,
    brand: charge.card.brand,
    last4: charge.card.last4,
    currency: charge.currency,
    amount: BigInt(charge.amount),
    status: charge.status,
    declineCode: charge.decline_code ?? undefined,
    amountCaptured: BigInt(charge.amount_captured),
    refunds: charge.refunds.map((refund) => ({
      id: refund.id,
      chargeId: charge.id,
      amount: BigInt(refund.amount),
      metadata: {},
      createdAtMs: Date.parse(refund.created),
    })),
    disputes: charge.disputes.map((dispute) => ({
      id: dispute.id,
      chargeId: charge.id,
      amount: BigInt(dispute.amount),
      reason: dispute.reason,
      createdAtMs: Date.parse(dispute.created),
    })),
    createdAtMs,
    capturedAtMs: charge.status === 'captured' ? createdAtMs : undefined,
    updatedAtMs: createdAtMs,
  };
}

/** A refund made at the provider, not through us (its dashboard): we hear of it by webhook only. */
export async function refundAtProvider(sim: FastifyInstance, charge: AdminCharge, amount: bigint): Promise<void> {
  // A key of its own that names no payment of ours, as a dashboard's would.
  const key = `dashboard-${randomUUID()}`;
  const response =
    charge.provider === 'stripe'
      ? await sim.inject({
          method: 'POST',
          url: '/stripe/v1/refunds',
          headers: { 'idempotency-key': key },
          payload: { charge: charge.id, amount: Number(amount) },
        })
      : await sim.inject({
          method: 'POST',
          url: `/paypal/v2/payments/captures/${charge.id}/refund`,
          headers: { 'paypal-request-id': key },
          payload: { amount: toPayPalMoney(amount, charge.currency) },
        });
  if (response.statusCode >= 300)
    throw new Error(`refund at the provider answered ${response.statusCode}: ${response.body}`);
}

export async function disputeAtProvider(sim: FastifyInstance, charge: AdminCharge, amount: bigint): Promise<void> {
  const response = await sim.inject({
    method: 'POST',
    url: '/admin/disputes',
    payload: { charge_id: charge.id, amount: Number(amount) },
  });
  if (response.statusCode !== 201)
    throw new Error(`dispute at the provider answered ${response.statusCode}: ${response.body}`);
}

/** The next `count` requests of `operation` about the payment get no answer before their caller gives up. */
export async function timeOutFor(
  sim: FastifyInstance,
  fault: { provider: ProviderName; paymentId: string; operation: SimOperation; processed: boolean; count: number },
): Promise<void> {
  const response = await sim.inject({
    method: 'POST',
    url: '/admin/faults/timeouts',
    payload: {
      provider: fault.provider,
      operation: fault.operation,
      processed: fault.processed,
      count: fault.count,
      payment_id: fault.paymentId,
    },
  });
  if (response.statusCode !== 200) throw new Error(`timeout fault answered ${response.statusCode}: ${response.body}`);
}
