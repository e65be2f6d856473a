import type { Client } from '@temporalio/client';
import type { paymentWorkflowV2 } from '../../../workflows/payment.ts';
import type { PaymentInput, PaymentView } from '../../domain/payment-view.ts';
import { awaitStableUpdate } from '../../../workflows/messages.ts';
import { startWithUpdate, type WorkflowStart } from '../start-with-update.ts';

// Starting a payment's workflow for POST /v1/payments, by the request's deadline: its update
// answers once the payment's status is stable.

export type PaymentStart = WorkflowStart<PaymentView>;

export function startPayment(
  temporal: Client,
  taskQueue: string,
  input: PaymentInput,
  deadline: number,
): Promise<PaymentStart> {
  return startWithUpdate<typeof paymentWorkflowV2, PaymentView>(
    temporal,
    {
      workflowType: 'paymentWorkflowV2',
      options: {
        workflowId: input.paymentId,
        taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // Search attributes are stored and shown unencrypted (no payload codec reads them):
        // nothing personal here, so no customer id (workflows/status-attributes.ts).
        searchAttributes: {
          PaymentStatus: ['processing'],
          MerchantId: [input.merchantId],
          AmountMinor: [Number(input.amount)],
          Currency: [input.currency],
        },
      },
      update: awaitStableUpdate,
      unavailableMessage: 'The payment could not be started in time; retry with the same Idempotency-Key.',
    },
    deadline,
  );
}
