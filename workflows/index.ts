// The workflow bundle's entry: every workflow the worker runs is exported here.
export { depositWorkflow } from './deposit.ts';
export { transferWorkflow } from './transfer.ts';
export { paymentWorkflow } from './payment.ts';
export { deliveryWorkflow } from './delivery.ts';
export { webhookWorkflow } from './webhook.ts';
export { maintenanceWorkflow } from './maintenance.ts';
