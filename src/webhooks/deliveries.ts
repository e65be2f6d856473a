import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../config.ts';
import type { deliveryWorkflow, DeliverySchedule } from '../../workflows/delivery.ts';

// Starting delivery workflows (from the relay and from redeliver) and showing deliveries.

export function deliverySchedule(config: Config): DeliverySchedule {
  return {
    initialRetryMs: config.deliveryInitialRetryMs,
    maxRetryMs: config.deliveryMaxRetryMs,
    maxAgeMs: config.deliveryMaxAgeMs,
    timeoutMs: config.deliveryTimeoutMs,
    endpointDisableAfterMs: config.endpointDisableAfterMs,
  };
}

/**
 * Starts the delivery's workflow (workflow id = delivery id). Exactly once per delivery: a
 * running one is joined, a closed one is never started again; both count as started.
 */
export async function startDeliveryWorkflow(temporal: Client, config: Config, deliveryId: string): Promise<void> {
  try {
    await temporal.workflow.start<typeof deliveryWorkflow>('deliveryWorkflow', {
      workflowId: deliveryId,
      taskQueue: config.taskQueue,
      args: [{ deliveryId, schedule: deliverySchedule(config) }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface DeliveryRecord {
  id: string;
  eventId: string;
  endpointId: string;
  generation: number;
  status: string;
  attemptCount: number;
  createdAt: Date;
  updatedAt: Date;
  event: { type: string };
  attempts: {
    attempt: number;
    statusCode: number | null;
    error: string | null;
    durationMs: number;
    createdAt: Date;
  }[];
}

export function presentDelivery(delivery: DeliveryRecord) {
  return {
    id: delivery.id,
    object: 'webhook_delivery' as const,
    event_id: delivery.eventId,
    event_type: delivery.event.type,
    endpoint_id: delivery.endpointId,
    status: delivery.status as DeliveryStatus,
    generation: delivery.generation,
    attempt_count: delivery.attemptCount,
    created_at: delivery.createdAt.toISOString(),
    updated_at: delivery.updatedAt.toISOString(),
    attempts: delivery.attempts.map((attempt) => ({
      attempt: attempt.attempt,
      status_code: attempt.statusCode,
      error: attempt.error,
      duration_ms: attempt.durationMs,
      created_at: attempt.createdAt.toISOString(),
    })),
  };
}

/** What presentDelivery needs from a delivery row. */
export const deliveryInclude = {
  event: { select: { type: true } },
  attempts: { orderBy: { attempt: 'asc' as const } },
};
