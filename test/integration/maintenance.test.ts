import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { ensureMaintenanceSchedule, maintenanceScheduleId } from '../../src/temporal/schedules.ts';
import type { maintenanceWorkflow } from '../../workflows/maintenance.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack('maintenance');
});
afterAll(async () => stack?.close());

const dayMs = 24 * 60 * 60 * 1000;

describe('maintenance', () => {
  it('purges idempotency keys past their retention and checks the books', async () => {
    const merchant = await stack.merchant();
    const key = (name: string, ageMs: number) => ({
      merchantId: merchant.id,
      key: name,
      fingerprint: 'f',
      method: 'POST',
      path: '/v1/transfers',
      createdAt: new Date(Date.now() - ageMs),
    });
    await stack.prisma.idempotencyKey.createMany({ data: [key('old', dayMs + 60_000), key('fresh', 60_000)] });

    const result = await stack.temporal.workflow.execute<typeof maintenanceWorkflow>('maintenanceWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: `maintenance-test-${randomUUID()}`,
      args: [{ idempotencyKeyTtlMs: dayMs }],
    });
    expect(result.purgedIdempotencyKeys).toBeGreaterThanOrEqual(1);
    expect(result.ledgerDiscrepancies).toBe(0);
    const left = await stack.prisma.idempotencyKey.findMany({ where: { merchantId: merchant.id } });
    expect(left.map((row) => row.key)).toEqual(['fresh']);
  });

  it('registers the hourly schedule once, and a restart with new settings updates it, keeping a pause', async () => {
    await ensureMaintenanceSchedule(stack.temporal, stack.config);
    await ensureMaintenanceSchedule(stack.temporal, stack.config);
    const handle = stack.temporal.schedule.getHandle(maintenanceScheduleId);
    try {
      const description = await handle.describe();
      expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'maintenanceWorkflow' });
      expect(description.spec.intervals?.[0]?.every).toBe(stack.config.maintenanceIntervalMs);

      await handle.pause('paused by an operator');
      const changed = { ...stack.config, maintenanceIntervalMs: 7_200_000, maxHoldsExpiredPerRun: 42 };
      await ensureMaintenanceSchedule(stack.temporal, changed);
      const updated = await handle.describe();
      expect(updated.spec.intervals?.[0]?.every).toBe(7_200_000);
      expect(updated.action).toMatchObject({
        args: [{ idempotencyKeyTtlMs: stack.config.idempotencyKeyTtlMs, maxHoldsExpiredPerRun: 42 }],
      });
      expect(updated.state.paused).toBe(true);
    } finally {
      await handle.delete();
    }
  });
});
