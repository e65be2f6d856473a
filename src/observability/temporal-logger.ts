import type { Logger as PinoLogger } from 'pino';
import {
  ApplicationFailure,
  ApplicationFailureCategory,
  type LogLevel,
  type LogMetadata,
  type Logger,
} from '@temporalio/common';

// The Temporal SDK's logger (Runtime.install({ logger })) on the process's pino logger, so the
// worker's lines have the same format, label and level as everything else. Field names are made
// one vocabulary: workflowId, runId, activity, paymentId, merchantId, err. The task token is
// dropped: it is a credential for completing the activity.

const rank: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
const pinoMethod = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

export function parseTemporalLogLevel(value: string | undefined): LogLevel {
  const level = (value ?? 'WARN').toUpperCase();
  if (level in rank) return level as LogLevel;
  throw new Error(`TEMPORAL_LOG_LEVEL must be one of ${Object.keys(rank).join(', ')}, not '${value}'.`);
}

function isBenign(error: unknown): error is ApplicationFailure {
  return error instanceof ApplicationFailure && error.category === ApplicationFailureCategory.BENIGN;
}

/** The fields a line carries, renamed; the payment id of a payment workflow is its workflow id. */
export function temporalLogFields(meta: LogMetadata = {}): Record<string, unknown> {
  const {
    taskToken: _taskToken,
    error,
    workflowRunId,
    runId,
    activityType,
    sdkComponent,
    ...rest
  } = meta as Record<string, unknown>;
  const fields: Record<string, unknown> = { ...rest };
  if (sdkComponent !== undefined) fields.component = sdkComponent;
  if (runId ?? workflowRunId) fields.runId = runId ?? workflowRunId;
  if (activityType !== undefined) fields.activity = activityType;
  const workflowId = fields.workflowId;
  if (fields.paymentId === undefined && typeof workflowId === 'string' && workflowId.startsWith('pay_')) {
    fields.paymentId = workflowId;
  }
  if (isBenign(error)) {
    // A business outcome (a decline…): its code says it all; a stack would say it is a fault.
    fields.code = error.type;
  } else if (error !== undefined) {
    fields.err = error;
  }
  return fields;
}

/**
 * Lines about a workflow or an activity go to pino at its level (LOG_LEVEL); the SDK's own
 * (worker state, polling, Core) only from `sdkLevel` up (TEMPORAL_LOG_LEVEL, WARN by default).
 */
export function temporalLogger(logger: PinoLogger, sdkLevel: LogLevel): Logger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const fields = temporalLogFields(meta);
    const aboutAnExecution = fields.workflowId !== undefined || fields.activity !== undefined;
    if (!aboutAnExecution && rank[level] < rank[sdkLevel]) return;
    logger[pinoMethod[level]](fields, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
