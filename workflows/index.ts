// The workflow bundle's entry: every workflow the worker runs is exported here.
export { depositWorkflow } from './deposit.ts';
export { transferWorkflow } from './transfer.ts';
export { paymentWorkflowV2 } from './payment.ts';
export { deliveryWorkflow } from './delivery.ts';
export { webhookWorkflowV2 } from './webhook.ts';
export { maintenanceWorkflow } from './maintenance.ts';
export { importWorkflow, importTriggerWorkflow } from './import.ts';
export { recordPaymentWorkflow } from './record.ts';
export { reconciliationWorkflow, reconciliationTriggerWorkflow } from './reconciliation.ts';
export { payoutWorkflow, payoutTriggerWorkflow } from './payout.ts';
// Earlier versions, kept until their last runs close (docs/adr/0001-payment-workflow-v2.md).
export { paymentWorkflow } from './legacy/payment-v1.ts';
export { webhookWorkflow } from './legacy/webhook-v1.ts';
