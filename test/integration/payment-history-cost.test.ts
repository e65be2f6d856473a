import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporal } from '@temporalio/proto';
import { startStack, type Stack } from '../support/stack.ts';
import { paymentsClient } from '../support/payments.ts';

// What a payment costs the engine, read from its history: every step is a local activity, so
// an automatic card payment is answered after one workflow task. A remote activity or an
// extra workflow task added to the path shows up here as more events.

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack('history-cost', { paymentContinueAsNewAfterEvents: 30, settlementDelayMs: 100 });
});

afterAll(async () => {
  await stack.close();
});

async function history(workflowId: string): Promise<HistoryEvent[]> {
  return (await stack.temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

/** Events up to and including the completion of the update that answered the create call. */
function eventsUntilAnswered(events: HistoryEvent[], nthUpdate = 1): HistoryEvent[] {
  let seen = 0;
  const index = events.findIndex(
    (event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED && ++seen === nthUpdate,
  );
  expect(index).toBeGreaterThan(0);
  return events.slice(0, index + 1);
}

const count = (events: HistoryEvent[], type: temporal.api.enums.v1.EventType) =>
  events.filter((event) => event.eventType === type).length;

describe('payment history cost', () => {
  it('answers an automatic card payment after one workflow task, in at most 15 events', async () => {
    const api = paymentsClient(stack, await stack.merchant());
    const response = await api.create({ amount: 2_000, currency: 'USD', source: { type: 'card', token: 'tok_visa' } });
    expect(response.statusCode).toBe(201);
    expect(response.json().status).toBe('succeeded');
    const answered = eventsUntilAnswered(await history(response.json().id));
    expect(answered.length).toBeLessThanOrEqual(15);
    expect(count(answered, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)).toBe(1);
    expect(count(answered, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(0);
    // Open the books, one provider call (authorize and capture together), book the capture,
    // and the lookup policy's version marker (patched(), once per run).
    expect(count(answered, EventType.EVENT_TYPE_MARKER_RECORDED)).toBe(4);
  });

  it('captures a manual payment with one provider call and one booking', async () => {
    const api = paymentsClient(stack, await stack.merchant());
    const created = await api.create({
      amount: 3_000,
      currency: 'USD',
      capture_method: 'manual',
      source: { type: 'card', token: 'tok_visa' },
    });
    expect(created.json().status).toBe('requires_capture');
    const id = created.json().id;
    expect((await api.act(id, 'capture', {})).statusCode).toBe(200);
    const events = await history(id);
    const beforeCapture = eventsUntilAnswered(events, 1).length;
    const capture = eventsUntilAnswered(events, 2).slice(beforeCapture);
    expect(count(capture, EventType.EVENT_TYPE_MARKER_RECORDED)).toBe(2);
    expect(count(capture, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(0);
    expect(count(capture, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)).toBe(1);
  });

  it('continues a long history as new, carrying amounts and refunds, and still refuses too much', async () => {
    const api = paymentsClient(stack, await stack.merchant());
    const created = await api.create({ amount: 1_000, currency: 'USD', source: { type: 'card', token: 'tok_visa' } });
    const id = created.json().id;
    await expect.poll(async () => api.eventTypes(id)).toContain('payment.settled');
    for (let refund = 0; refund < 5; refund++) {
      expect((await api.act(id, 'refunds', { amount: 150 })).statusCode).toBe(201);
    }
    // The run hands over in a workflow task of its own, just after the last answer.
    const runs = async () => {
      const statuses: string[] = [];
      for await (const run of stack.temporal.workflow.list({ query: `WorkflowId = '${id}'` })) {
        statuses.push(run.status.name);
      }
      return statuses;
    };
    await expect.poll(runs, { timeout: 10_000, interval: 100 }).toContain('CONTINUED_AS_NEW');
    expect((await runs()).length).toBeGreaterThanOrEqual(2);
    const latest = await stack.temporal.workflow
      .getHandle(id)
      .query<{ amountRefunded: bigint; refunds: unknown[] }>('status');
    expect(latest.amountRefunded).toBe(750n);
    expect(latest.refunds).toHaveLength(5);
    // 250 remain: the resumed run knows it.
    const tooMuch = await api.act(id, 'refunds', { amount: 251 });
    expect(tooMuch.statusCode).toBe(400);
    expect(tooMuch.json().error.code).toBe('amount_too_large');
    expect((await api.act(id, 'refunds', { amount: 250 })).statusCode).toBe(201);
    const payment = await api.get(id);
    expect(payment).toMatchObject({ amount_refunded: 1_000, refunded: true });
    await stack.temporal.workflow.getHandle(id).result();
  });
});
