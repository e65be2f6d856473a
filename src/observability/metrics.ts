import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Every metric the processes record, in one place (docs/operations.md lists them with what to
// alert on), in one registry per process: the API serves it at GET /metrics, the worker on
// WORKER_METRICS_PORT. `npm start` and the tests run both in one process, so there the API's
// /metrics shows the worker's metrics too. The gauges read from PostgreSQL and the pool are in
// src/observability/database-metrics.ts.

/** The process's registry (not prom-client's global one: a module loaded twice registers twice). */
export const metricsRegistry = new Registry();

// Node's own: CPU, memory, event loop lag, GC (process_*, nodejs_*).
collectDefaultMetrics({ register: metricsRegistry });

/** Seconds; from a fast cached read (5 ms) to a provider call near its timeout. */
const latencyBucketsSeconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'API request duration, by method, route pattern (not the URL) and status code.',
  labelNames: ['method', 'route', 'status_code'] as const,
  registers: [metricsRegistry],
  buckets: latencyBucketsSeconds,
});

export const paymentTransitions = new Counter({
  name: 'payment_transitions_total',
  help: 'Payment status transitions recorded (from → to), by provider (none for wallets) and currency.',
  labelNames: ['from', 'to', 'provider', 'currency'] as const,
  registers: [metricsRegistry],
});

export const providerRequestDuration = new Histogram({
  name: 'provider_request_duration_seconds',
  help: 'Card provider call duration, by provider, operation and outcome (success, declined, unavailable, breaker_open, error).',
  labelNames: ['provider', 'operation', 'outcome'] as const,
  buckets: latencyBucketsSeconds,
  registers: [metricsRegistry],
});

export const providerErrors = new Counter({
  name: 'provider_errors_total',
  help: 'Card provider calls that did not succeed, by provider, operation and outcome (declined, unavailable, breaker_open, error).',
  labelNames: ['provider', 'operation', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const providerCircuitState = new Gauge({
  name: 'provider_circuit_breaker_state',
  help: "1 for the breaker's current state (closed, open, half_open) per provider, 0 for the others.",
  labelNames: ['provider', 'state'] as const,
  registers: [metricsRegistry],
});

export const ledgerPostings = new Counter({
  name: 'ledger_postings_total',
  help: 'Ledger transactions posted, by kind; replayed = true when the idempotency key found an earlier one.',
  labelNames: ['kind', 'replayed'] as const,
  registers: [metricsRegistry],
});

export const ledgerLockRetries = new Counter({
  name: 'ledger_lock_retries_total',
  help: 'Ledger statements retried after a lock conflict (deadlock or serialization failure).',
  registers: [metricsRegistry],
});

export const webhookIntake = new Counter({
  name: 'webhook_intake_total',
  help: 'Provider webhooks received, by provider and outcome (accepted, duplicate, rejected) and the rejection reason (error code, or none).',
  labelNames: ['provider', 'outcome', 'reason'] as const,
  registers: [metricsRegistry],
});

export const webhookDeliveryAttempts = new Counter({
  name: 'webhook_delivery_attempts_total',
  help: "Outbound webhook POSTs to merchants' endpoints, by outcome (success, failure).",
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

export const webhookDeadLetters = new Counter({
  name: 'webhook_delivery_dead_letters_total',
  help: 'Outbound deliveries given up (marked failed, replayable), by reason (max_age_exceeded, endpoint_disabled).',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

/** One state is 1, the others 0: `provider_circuit_breaker_state{state="open"} == 1` is the alert. */
export function recordBreakerState(provider: string, state: 'closed' | 'open' | 'half_open'): void {
  for (const each of ['closed', 'open', 'half_open'] as const) {
    providerCircuitState.set({ provider, state: each }, each === state ? 1 : 0);
  }
}
