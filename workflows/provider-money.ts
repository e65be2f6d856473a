import { afterDispute, boundedByRefundable } from '../src/domain/payment-money.ts';
import type { ProviderEvent } from '../src/webhooks/inbound-events.ts';
import { businessFailure } from './failures.ts';
import type { PaymentRun } from './payment-run.ts';

// Money the provider moved on its side (refunds from its dashboard, disputes), applied once
// and bounded by what remains refundable, whatever order the provider's webhooks arrive in.

type MoneyEvent = Extract<ProviderEvent, { kind: 'refund_total' | 'refund' | 'dispute_created' }>;

export function isMoneyEvent(event: ProviderEvent): event is MoneyEvent {
  return event.kind === 'refund_total' || event.kind === 'refund' || event.kind === 'dispute_created';
}

export async function applyProviderMoney(run: PaymentRun, event: MoneyEvent): Promise<void> {
  if (event.kind === 'refund_total') {
    // Totals only grow: an older total arriving late adds nothing.
    const amount = boundedByRefundable(run.money, event.totalRefunded - run.view.amountRefunded);
    if (amount > 0n) await run.refund(`re_${event.eventId}`, amount, null, { providerRefundId: null });
  } else if (event.kind === 'refund') {
    const known = run.view.refunds.some((refund) => refund.providerRefundId === event.refundId);
    const amount = boundedByRefundable(run.money, event.amount);
    if (!known && amount > 0n) {
      await run.refund(`re_${event.refundId}`, amount, null, { providerRefundId: event.refundId });
    }
  } else if (!run.disputeIds.has(event.disputeId)) {
    run.disputeIds.add(event.disputeId);
    await applyDispute(run, event.disputeId, boundedByRefundable(run.money, event.amount));
  }
}

/**
 * The disputed amount leaves the merchant's balance. The card network has returned it to the
 * payer either way, so it stops being refundable even when the merchant's balance cannot
 * cover it (recorded as unfunded for an operator).
 */
async function applyDispute(run: PaymentRun, disputeId: string, amount: bigint): Promise<void> {
  if (amount <= 0n) return;
  const fromPending = !run.view.settled;
  const changes = { amountDisputed: run.view.amountDisputed + amount };
  const data = { dispute_id: disputeId, amount };
  try {
    await run.transition(
      'payment.dispute_created',
      changes,
      { ...data, funded: true },
      { ledger: { kind: 'dispute', disputeId, amount, fromPending } },
    );
    if (fromPending) run.pendingNet -= amount;
  } catch (error) {
    const failure = businessFailure(error);
    if (!failure) throw error;
    await run.transition('payment.dispute_created', changes, { ...data, funded: false, code: failure.type });
  }
  run.money = afterDispute(run.money, amount);
}
