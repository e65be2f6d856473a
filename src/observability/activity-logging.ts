import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { Context } from '@temporalio/activity';
import type { ActivityInterceptors } from '@temporalio/worker';

// Every activity line names the payment (or other resource) and merchant it works for, read
// from the activity's input, so one grep for a payment id finds its HTTP request, its workflow,
// its activities and their provider calls. Each activity's end is one info line; a business
// outcome (a decline, insufficient funds, blocked by risk: ApplicationFailure of category BENIGN,
// see activities/index.ts) is an info line with its code and no stack. Real failures are the
// SDK's own WARN "Activity failed" line, with the stack.

interface Correlation {
  paymentId?: string;
  merchantId?: string;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Ids only, from the shapes activity inputs use: { paymentId, merchantId } or { view: { id, merchantId } }. */
export function correlationOf(args: readonly unknown[]): Correlation {
  const input = args[0];
  if (typeof input !== 'object' || input === null) return {};
  const record = input as Record<string, unknown>;
  const view = typeof record.view === 'object' && record.view !== null ? (record.view as Record<string, unknown>) : {};
  const viewId = text(view.id);
  const correlation: Correlation = {};
  const paymentId = text(record.paymentId) ?? (viewId?.startsWith('pay_') ? viewId : undefined);
  const merchantId = text(record.merchantId) ?? text(view.merchantId);
  if (paymentId) correlation.paymentId = paymentId;
  if (merchantId) correlation.merchantId = merchantId;
  return correlation;
}

export function activityLogging(context: Context): ActivityInterceptors {
  let correlation: Correlation = {};
  return {
    inbound: {
      async execute(input, next) {
        correlation = correlationOf(input.args);
        const startedAt = performance.now();
        const durationMs = () => Math.round(performance.now() - startedAt);
        try {
          const result = await next(input);
          context.log.info('Activity completed', { durationMs: durationMs() });
          return result;
        } catch (error) {
          if (error instanceof ApplicationFailure && error.category === ApplicationFailureCategory.BENIGN) {
            context.log.info('Activity ended with a business outcome', { code: error.type, durationMs: durationMs() });
          }
          throw error;
        }
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        return next({ ...input, ...correlation });
      },
    },
  };
}
