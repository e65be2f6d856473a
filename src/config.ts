import type { ProviderName } from './providers/provider.ts';
import { Keyring } from './crypto/keyring.ts';
import { defaultWorkerTuning, type WorkerTuning } from './temporal/worker-tuning.ts';
import { defaultTransferSettings } from './domain/transfer-settings.ts';
import { defaultMaxHoldsExpiredPerRun } from './domain/hold-expiry.ts';
import { maxTimerDelayMs } from './events/poll-loop.ts';
import { defaultOutcomeLookupScheduleMs, outcomeLookupScheduleProblem } from './domain/outcome-lookup.ts';
import {
  defaultPayoutTiming,
  isPayoutSchedule,
  type PayoutSchedule,
  type PayoutTiming,
} from './domain/payout-settings.ts';
import {
  defaultImportBatchSize,
  defaultImportBatchesPerRun,
  defaultImportParallelBatches,
  maxImportParallelBatches,
  defaultRecordLimits,
  type RecordLimits,
} from './domain/record-limits.ts';

// Every setting comes from the environment, with a documented default and its unit last.

function text(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

function optionalText(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function integer(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function boolean(name: string, fallback: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

function list(name: string, fallback: string[]): string[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** A comma-separated list of milliseconds, e.g. 5000,30000. */
function durations(name: string, fallback: readonly number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return [...fallback];
  const values = raw.split(',').map((item) => Number(item.trim()));
  const problem = outcomeLookupScheduleProblem(values);
  if (problem) throw new Error(`${name} ${problem}, got ${JSON.stringify(raw)}`);
  return values;
}

/** A JSON object of currency → minor units, e.g. {"USD":500000}. */
function amountsByCurrency(name: string, fallback: Record<string, bigint>): Record<string, bigint> {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const parsed = JSON.parse(raw) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(parsed).map(([currency, value]) => {
      if (typeof value !== 'number' || !Number.isSafeInteger(value))
        throw new Error(`${name}.${currency} must be an integer`);
      return [currency, BigInt(value)];
    }),
  );
}

/** A JSON object of currency → provider names in the order to try them. */
function routing(name: string, fallback: Record<string, ProviderName[]>): Record<string, ProviderName[]> {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : (JSON.parse(raw) as Record<string, ProviderName[]>);
}

function keyring(name: string): Keyring | undefined {
  const raw = optionalText(name);
  return raw === undefined ? undefined : Keyring.parse(raw, name);
}

const hourMs = 60 * 60 * 1000;
const dayMs = 24 * hourMs;

export interface PaymentConfig {
  /** How long POST /v1/payments waits for a stable status before answering 202. */
  paymentWaitMs: number;
  authorizationExpiryMs: number;
  reviewTimeoutMs: number;
  settlementDelayMs: number;
  refundWindowMs: number;
  maxRefunds: number;
  /** A payment run continues as new past this many history events, carrying its state. */
  paymentContinueAsNewAfterEvents: number;
  feePercentBasisPoints: number;
  feeFixedMinor: bigint;
  riskReviewAboveMinor: Record<string, bigint>;
  riskBlockAboveMinor: Record<string, bigint>;
  riskMaxPaymentsPerWindow: number;
  riskVelocityWindowMs: number;
  riskBlockedCustomers: string[];
  riskBlockedCards: string[];
  providerSimUrl: string;
  providerTimeoutMs: number;
  /**
   * Waits before each lookup of a provider step whose answer never came; after the last one
   * the payment requires attention (src/domain/outcome-lookup.ts).
   */
  outcomeLookupScheduleMs: number[];
  providerRouting: Record<string, ProviderName[]>;
  providerDefaultRoute: ProviderName[];
  breakerErrorThresholdPercentage: number;
  breakerResetTimeoutMs: number;
  breakerVolumeThreshold: number;
}

export interface WebhookConfig {
  /** Provider signing secrets; several at once while a secret rotates. */
  webhookSecretsStripe: string[];
  webhookSecretsPaypal: string[];
  webhookToleranceSeconds: number;
  /** An event for a charge we don't know yet is retried this often… */
  unmatchedRetryMs: number;
  /** …for this long, then marked unmatched. */
  unmatchedGiveUpMs: number;
  /** Webhook workflows the API starts at once after acknowledging; more wait in memory… */
  webhookStartConcurrency: number;
  /** …up to this many; beyond, the sweeper starts them from the inbox table. */
  webhookMaxPendingStarts: number;
  /** The sweeper starts inbox events older than this that have no workflow yet. */
  webhookSweepAfterMs: number;
  webhookSweepIntervalMs: number;
  /** How often the outbox relay looks for undispatched events. */
  relayIntervalMs: number;
  relayBatchSize: number;
  /** Outbound delivery: first retry delay, doubling up to the maximum, for at most maxAge. */
  deliveryInitialRetryMs: number;
  deliveryMaxRetryMs: number;
  deliveryMaxAgeMs: number;
  deliveryTimeoutMs: number;
  /** An endpoint failing for this long without a success is disabled. */
  endpointDisableAfterMs: number;
  /**
   * Webhook endpoints may be on loopback, private and other non-public addresses. Off in
   * production (they would let a merchant reach our own network); npm start turns it on.
   */
  webhookAllowPrivateDestinations: boolean;
}

export interface EventStreamConfig {
  /** Unset: npm start runs a nats-server with JetStream, tests one per run (src/nats/nats-server.ts). */
  natsUrl: string | undefined;
  /** The JetStream stream every event is published to, created or updated at start. */
  eventStreamName: string;
  /** Events go to `<prefix>.<event type>`; the stream takes `<prefix>.>`. */
  eventStreamSubjectPrefix: string;
  /** JetStream drops a second message with the same Nats-Msg-Id (the event id) within this window. */
  eventStreamDuplicateWindowMs: number;
  /** Retention limits: messages older than this, or past this many bytes (oldest first), are dropped. */
  eventStreamMaxAgeMs: number;
  eventStreamMaxBytes: number;
  /** How often the publisher looks for unpublished events, and how many it publishes per pass. */
  eventPublishIntervalMs: number;
  eventPublishBatchSize: number;
  /** How long one publish waits for JetStream's acknowledgement. */
  eventPublishTimeoutMs: number;
  /** How long connecting to NATS (and each stream management call) may take. */
  natsConnectTimeoutMs: number;
  /** After a failed pass: first retry delay, doubling up to the maximum while failures go on. */
  eventPublishInitialRetryMs: number;
  eventPublishMaxRetryMs: number;
}

/** A partner channel of the recording webhook: who may sign for it, and for which merchants. */
export interface RecordChannel {
  /** HMAC secrets; several at once while one rotates. */
  secrets: string[];
  /** The merchants this channel may record payments for (the payload names one). */
  merchants: string[];
}

export interface RecordConfig {
  recordLimits: RecordLimits;
  /** The import's fixed workflow id: one import at a time. */
  importWorkflowId: string;
  importScheduleId: string;
  /** How often the import schedule starts an import (joining a running one). */
  importIntervalMs: number;
  importBatchSize: number;
  importBatchesPerRun: number;
  /** Batches running at once (1..maxImportParallelBatches). */
  importParallelBatches: number;
  /** Only these merchants' staged rows are imported; empty: all. */
  importMerchantIds: string[];
  /** Partner channels of POST /v1/webhooks/records/:channel, by name. */
  recordChannels: Record<string, RecordChannel>;
  /** The maintenance run keeps recorded_payments partitions this many months ahead. */
  recordPartitionsMonthsAhead: number;
}

/** A JSON object of channel → { secrets, merchants }. */
function recordChannels(name: string): Record<string, RecordChannel> {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return {};
  const parsed = JSON.parse(raw) as Record<string, { secrets?: unknown; merchants?: unknown }>;
  const strings = (value: unknown, what: string): string[] => {
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
      throw new Error(`${name}.${what} must be a list of non-empty strings`);
    }
    return value as string[];
  };
  return Object.fromEntries(
    Object.entries(parsed).map(([channel, settings]) => [
      channel,
      {
        secrets: strings(settings.secrets, `${channel}.secrets`),
        merchants: strings(settings.merchants, `${channel}.merchants`),
      },
    ]),
  );
}

export interface ReconciliationConfig {
  reconciliationScheduleId: string;
  /** When the schedule reconciles the previous UTC day: a cron expression, in UTC. */
  reconciliationCron: string;
}

export interface PayoutConfig {
  payoutScheduleId: string;
  /** When the payout schedule runs: a cron expression, in UTC. */
  payoutCron: string;
  /** How long POST /v1/payouts waits for the payout's hold before answering 202. */
  payoutWaitMs: number;
  /** The provider payouts go through (one that pays out to banks: stripe). */
  payoutProvider: ProviderName;
  /** A merchant that set no schedule gets this one. */
  payoutDefaultSchedule: PayoutSchedule;
  /** A merchant's minimum payout unless it set a higher one; no merchant may set a lower one. */
  payoutMinimumAmountMinor: bigint;
  /** Submission, lookup and status-poll timing of each payout (carried in its workflow input). */
  payoutTiming: PayoutTiming;
  /** Only these merchants are paid out by the schedule; empty: all. */
  payoutMerchantIds: string[];
}

export interface EncryptionConfig {
  /**
   * ENCRYPTION_KEYS: encrypts Temporal payloads and sensitive columns. Unset: `npm start` keeps
   * a generated key in .data/, the tests generate one per run; src/server.ts and src/worker.ts
   * alone refuse to start without it.
   */
  keyring: Keyring | undefined;
  /** Opens POST /codec/decode and /codec/encode (the Web UI's codec endpoint); unset: admin key only. */
  codecAccessToken: string | undefined;
  /** Browser origins (the Temporal Web UI) allowed to call the codec endpoint. */
  codecCorsOrigins: string[];
}

/** The keyring a process cannot run without. */
export function requireKeyring(config: EncryptionConfig): Keyring {
  if (!config.keyring) {
    throw new Error('ENCRYPTION_KEYS is unset; `npm start` generates one, production must set it (README, Encryption)');
  }
  return config.keyring;
}

export interface Config
  extends
    PaymentConfig,
    WebhookConfig,
    EventStreamConfig,
    RecordConfig,
    ReconciliationConfig,
    PayoutConfig,
    EncryptionConfig {
  host: string;
  port: number;
  /** Unset: npm start runs an embedded PostgreSQL, tests create one database per run. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** Unset: a Temporal CLI dev server is found or installed and started. */
  temporalAddress: string | undefined;
  temporalNamespace: string;
  taskQueue: string;
  workerTuning: WorkerTuning;
  adminApiKey: string | undefined;
  providerSimPort: number;
  /** The worker process's own GET /metrics (src/worker.ts); 0: none. The API serves its own at /metrics. */
  workerMetricsPort: number;
  /** The Temporal SDK's Prometheus exporter (worker task slots, poll latency, sticky cache…); 0: none. */
  temporalMetricsPort: number;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  rateLimitPerSecond: number;
  /** Refused API keys per client address and minute before that address is answered 429. */
  authFailuresPerMinute: number;
  idempotencyKeyTtlMs: number;
  /** A request holding an idempotency key longer than this is presumed dead and may be retried. */
  idempotencyLockTimeoutMs: number;
  /** How often the maintenance schedule purges expired idempotency keys and checks the books. */
  maintenanceIntervalMs: number;
  /** How long POST /deposits and /transfers wait for the workflow before answering 202. */
  depositWaitMs: number;
  /** Transfers above this are blocked by the risk check. */
  maxTransferAmountMinor: bigint;
  /** A transfer's hold expires this long after it is placed; longer than transferCaptureTimeoutMs. */
  transferHoldExpiryMs: number;
  /** How long a transfer's capture is retried before the transfer fails and its hold is released. */
  transferCaptureTimeoutMs: number;
  /** Expired holds the maintenance run releases at most; the rest wait for the next run. */
  maxHoldsExpiredPerRun: number;
}

export function loadConfig(): Config {
  const config = readConfig();
  // Zero would mean no timeout to Temporal: the capture would retry only by its attempt count.
  if (config.transferCaptureTimeoutMs === 0) throw new Error('TRANSFER_CAPTURE_TIMEOUT_MS must be positive');
  if (config.importBatchSize === 0 || config.importBatchesPerRun === 0) {
    throw new Error('IMPORT_BATCH_SIZE and IMPORT_BATCHES_PER_RUN must be positive');
  }
  if (config.importParallelBatches < 1 || config.importParallelBatches > maxImportParallelBatches) {
    throw new Error(`IMPORT_PARALLEL_BATCHES must be between 1 and ${maxImportParallelBatches}`);
  }
  if (config.transferHoldExpiryMs <= config.transferCaptureTimeoutMs) {
    // Else the sweep could expire a hold its transfer is still entitled to capture.
    throw new Error('TRANSFER_HOLD_EXPIRY_MS must be longer than TRANSFER_CAPTURE_TIMEOUT_MS');
  }
  // Node timers run these; past 2^31 - 1 ms one silently fires every millisecond instead.
  for (const [name, value] of [
    ['WEBHOOK_SWEEP_INTERVAL_MS', config.webhookSweepIntervalMs],
    ['EVENT_RELAY_INTERVAL_MS', config.relayIntervalMs],
    ['EVENT_PUBLISH_INTERVAL_MS', config.eventPublishIntervalMs],
  ] as const) {
    if (value < 1 || value > maxTimerDelayMs) throw new Error(`${name} must be from 1 to ${maxTimerDelayMs}`);
  }
  checkEventStream(config);
  checkPayouts(config);
  return config;
}

function checkPayouts(config: PayoutConfig): void {
  if (config.payoutProvider !== 'stripe') throw new Error('PAYOUT_PROVIDER must be stripe (the one that pays out)');
  if (!isPayoutSchedule(config.payoutDefaultSchedule)) {
    throw new Error(`PAYOUT_DEFAULT_SCHEDULE must be daily, weekly or manual, got ${config.payoutDefaultSchedule}`);
  }
  if (config.payoutMinimumAmountMinor < 1n) throw new Error('PAYOUT_MINIMUM_AMOUNT_MINOR must be positive');
  const { submitTimeoutMs, lookupTimeoutMs, statusPollMs } = config.payoutTiming;
  if (submitTimeoutMs === 0 || lookupTimeoutMs === 0 || statusPollMs === 0) {
    throw new Error('PAYOUT_SUBMIT_TIMEOUT_MS, PAYOUT_LOOKUP_TIMEOUT_MS and PAYOUT_STATUS_POLL_MS must be positive');
  }
}

// Names JetStream would refuse (or read as wildcards) are refused here, at start, with the setting's name.
const subjectTokens = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const streamName = /^[A-Za-z0-9_-]+$/;

function checkEventStream(config: EventStreamConfig): void {
  if (!streamName.test(config.eventStreamName)) {
    throw new Error(`EVENT_STREAM_NAME must be letters, digits, - or _, got ${JSON.stringify(config.eventStreamName)}`);
  }
  if (!subjectTokens.test(config.eventStreamSubjectPrefix)) {
    throw new Error(
      `EVENT_STREAM_SUBJECT_PREFIX must be dot-separated tokens without wildcards, got ${JSON.stringify(config.eventStreamSubjectPrefix)}`,
    );
  }
  if (config.eventPublishBatchSize === 0) throw new Error('EVENT_PUBLISH_BATCH_SIZE must be positive');
  if (config.eventPublishTimeoutMs === 0) throw new Error('EVENT_PUBLISH_TIMEOUT_MS must be positive');
  if (config.natsConnectTimeoutMs === 0) throw new Error('NATS_CONNECT_TIMEOUT_MS must be positive');
  if (config.eventPublishInitialRetryMs === 0 || config.eventPublishMaxRetryMs < config.eventPublishInitialRetryMs) {
    throw new Error('EVENT_PUBLISH_INITIAL_RETRY_MS must be positive and at most EVENT_PUBLISH_MAX_RETRY_MS');
  }
  // JetStream refuses a duplicate window longer than the messages are kept.
  if (config.eventStreamDuplicateWindowMs === 0 || config.eventStreamDuplicateWindowMs > config.eventStreamMaxAgeMs) {
    throw new Error('EVENT_STREAM_DUPLICATE_WINDOW_MS must be positive and at most EVENT_STREAM_MAX_AGE_MS');
  }
}

function readConfig(): Config {
  return {
    host: text('HOST', '127.0.0.1'),
    port: integer('PORT', 3000),
    databaseUrl: optionalText('DATABASE_URL'),
    databasePoolSize: integer('DATABASE_POOL_SIZE', 10),
    temporalAddress: optionalText('TEMPORAL_ADDRESS'),
    temporalNamespace: text('TEMPORAL_NAMESPACE', 'default'),
    taskQueue: text('TEMPORAL_TASK_QUEUE', 'payments'),
    workerTuning: {
      maxCachedWorkflows: integer('WORKER_MAX_CACHED_WORKFLOWS', defaultWorkerTuning.maxCachedWorkflows),
      maxConcurrentWorkflowTasks: integer(
        'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
        defaultWorkerTuning.maxConcurrentWorkflowTasks,
      ),
      maxConcurrentLocalActivities: integer(
        'WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES',
        defaultWorkerTuning.maxConcurrentLocalActivities,
      ),
      maxConcurrentActivities: integer('WORKER_MAX_CONCURRENT_ACTIVITIES', defaultWorkerTuning.maxConcurrentActivities),
    },
    adminApiKey: optionalText('ADMIN_API_KEY'),
    keyring: keyring('ENCRYPTION_KEYS'),
    codecAccessToken: optionalText('CODEC_ACCESS_TOKEN'),
    codecCorsOrigins: list('CODEC_CORS_ORIGINS', ['http://127.0.0.1:8233', 'http://localhost:8233']),
    providerSimPort: integer('PROVIDER_SIM_PORT', 4010),
    workerMetricsPort: integer('WORKER_METRICS_PORT', 9464),
    temporalMetricsPort: integer('TEMPORAL_METRICS_PORT', 9465),
    bodyLimitBytes: integer('BODY_LIMIT_BYTES', 64 * 1024),
    requestTimeoutMs: integer('REQUEST_TIMEOUT_MS', 30_000),
    rateLimitPerSecond: integer('RATE_LIMIT_PER_SECOND', 200),
    authFailuresPerMinute: integer('AUTH_FAILURES_PER_MINUTE', 60),
    idempotencyKeyTtlMs: integer('IDEMPOTENCY_KEY_TTL_MS', 24 * 60 * 60 * 1000),
    idempotencyLockTimeoutMs: integer('IDEMPOTENCY_LOCK_TIMEOUT_MS', 60_000),
    depositWaitMs: integer('DEPOSIT_WAIT_MS', 10_000),
    maintenanceIntervalMs: integer('MAINTENANCE_INTERVAL_MS', hourMs),
    maxTransferAmountMinor: BigInt(integer('MAX_TRANSFER_AMOUNT_MINOR', 100_000_000)),
    transferHoldExpiryMs: integer('TRANSFER_HOLD_EXPIRY_MS', defaultTransferSettings.holdExpiryMs),
    transferCaptureTimeoutMs: integer('TRANSFER_CAPTURE_TIMEOUT_MS', defaultTransferSettings.captureTimeoutMs),
    maxHoldsExpiredPerRun: integer('MAX_HOLDS_EXPIRED_PER_RUN', defaultMaxHoldsExpiredPerRun),
    paymentWaitMs: integer('PAYMENT_WAIT_MS', 10_000),
    authorizationExpiryMs: integer('AUTHORIZATION_EXPIRY_MS', 7 * dayMs),
    reviewTimeoutMs: integer('REVIEW_TIMEOUT_MS', dayMs),
    settlementDelayMs: integer('SETTLEMENT_DELAY_MS', 2 * dayMs),
    refundWindowMs: integer('REFUND_WINDOW_MS', 180 * dayMs),
    maxRefunds: integer('MAX_REFUNDS_PER_PAYMENT', 50),
    paymentContinueAsNewAfterEvents: integer('PAYMENT_CONTINUE_AS_NEW_AFTER_EVENTS', 2_000),
    feePercentBasisPoints: integer('FEE_PERCENT_BASIS_POINTS', 290),
    feeFixedMinor: BigInt(integer('FEE_FIXED_MINOR', 30)),
    riskReviewAboveMinor: amountsByCurrency('RISK_REVIEW_ABOVE_MINOR', { USD: 500_000n, EUR: 500_000n, GBP: 500_000n }),
    riskBlockAboveMinor: amountsByCurrency('RISK_BLOCK_ABOVE_MINOR', {
      USD: 5_000_000n,
      EUR: 5_000_000n,
      GBP: 5_000_000n,
    }),
    riskMaxPaymentsPerWindow: integer('RISK_MAX_PAYMENTS_PER_WINDOW', 20),
    riskVelocityWindowMs: integer('RISK_VELOCITY_WINDOW_MS', hourMs),
    riskBlockedCustomers: list('RISK_BLOCKED_CUSTOMERS', []),
    riskBlockedCards: list('RISK_BLOCKED_CARDS', ['tok_riskHigh']),
    providerSimUrl: text('PROVIDER_SIM_URL', `http://127.0.0.1:${integer('PROVIDER_SIM_PORT', 4010)}`),
    providerTimeoutMs: integer('PROVIDER_TIMEOUT_MS', 5_000),
    outcomeLookupScheduleMs: durations('OUTCOME_LOOKUP_SCHEDULE_MS', defaultOutcomeLookupScheduleMs),
    providerRouting: routing('PROVIDER_ROUTING', { USD: ['stripe', 'paypal'], EUR: ['paypal', 'stripe'] }),
    providerDefaultRoute: list('PROVIDER_DEFAULT_ROUTE', ['stripe', 'paypal']) as ProviderName[],
    breakerErrorThresholdPercentage: integer('BREAKER_ERROR_THRESHOLD_PERCENT', 50),
    breakerResetTimeoutMs: integer('BREAKER_RESET_TIMEOUT_MS', 10_000),
    breakerVolumeThreshold: integer('BREAKER_VOLUME_THRESHOLD', 5),
    webhookSecretsStripe: list('WEBHOOK_SECRETS_STRIPE', ['whsec_stripe_dev']),
    webhookSecretsPaypal: list('WEBHOOK_SECRETS_PAYPAL', ['whsec_paypal_dev']),
    webhookToleranceSeconds: integer('WEBHOOK_TOLERANCE_SECONDS', 300),
    unmatchedRetryMs: integer('WEBHOOK_UNMATCHED_RETRY_MS', 30_000),
    unmatchedGiveUpMs: integer('WEBHOOK_UNMATCHED_GIVE_UP_MS', hourMs),
    webhookStartConcurrency: integer('WEBHOOK_START_CONCURRENCY', 16),
    webhookMaxPendingStarts: integer('WEBHOOK_MAX_PENDING_STARTS', 10_000),
    webhookSweepAfterMs: integer('WEBHOOK_SWEEP_AFTER_MS', 10_000),
    webhookSweepIntervalMs: integer('WEBHOOK_SWEEP_INTERVAL_MS', 1_000),
    relayIntervalMs: integer('EVENT_RELAY_INTERVAL_MS', 250),
    relayBatchSize: integer('EVENT_RELAY_BATCH_SIZE', 100),
    deliveryInitialRetryMs: integer('WEBHOOK_DELIVERY_INITIAL_RETRY_MS', 60_000),
    deliveryMaxRetryMs: integer('WEBHOOK_DELIVERY_MAX_RETRY_MS', 6 * hourMs),
    deliveryMaxAgeMs: integer('WEBHOOK_DELIVERY_MAX_AGE_MS', 3 * dayMs),
    deliveryTimeoutMs: integer('WEBHOOK_DELIVERY_TIMEOUT_MS', 10_000),
    endpointDisableAfterMs: integer('WEBHOOK_ENDPOINT_DISABLE_AFTER_MS', 5 * dayMs),
    webhookAllowPrivateDestinations: boolean('WEBHOOK_ALLOW_PRIVATE_DESTINATIONS', false),
    natsUrl: optionalText('NATS_URL'),
    eventStreamName: text('EVENT_STREAM_NAME', 'PAYMENTS'),
    eventStreamSubjectPrefix: text('EVENT_STREAM_SUBJECT_PREFIX', 'payments'),
    eventStreamDuplicateWindowMs: integer('EVENT_STREAM_DUPLICATE_WINDOW_MS', hourMs),
    eventStreamMaxAgeMs: integer('EVENT_STREAM_MAX_AGE_MS', 7 * dayMs),
    eventStreamMaxBytes: integer('EVENT_STREAM_MAX_BYTES', 1024 * 1024 * 1024),
    eventPublishIntervalMs: integer('EVENT_PUBLISH_INTERVAL_MS', 250),
    eventPublishBatchSize: integer('EVENT_PUBLISH_BATCH_SIZE', 100),
    eventPublishTimeoutMs: integer('EVENT_PUBLISH_TIMEOUT_MS', 5_000),
    natsConnectTimeoutMs: integer('NATS_CONNECT_TIMEOUT_MS', 5_000),
    eventPublishInitialRetryMs: integer('EVENT_PUBLISH_INITIAL_RETRY_MS', 500),
    eventPublishMaxRetryMs: integer('EVENT_PUBLISH_MAX_RETRY_MS', 30_000),
    recordLimits: {
      maxAmountMinor: BigInt(integer('RECORD_MAX_AMOUNT_MINOR', Number(defaultRecordLimits.maxAmountMinor))),
      maxAgeDays: integer('RECORD_MAX_AGE_DAYS', defaultRecordLimits.maxAgeDays),
      referenceRetentionDays: integer('RECORD_REFERENCE_RETENTION_DAYS', defaultRecordLimits.referenceRetentionDays),
    },
    importWorkflowId: text('IMPORT_WORKFLOW_ID', 'import'),
    importScheduleId: text('IMPORT_SCHEDULE_ID', 'import'),
    importIntervalMs: integer('IMPORT_INTERVAL_MS', 30_000),
    importBatchSize: integer('IMPORT_BATCH_SIZE', defaultImportBatchSize),
    importBatchesPerRun: integer('IMPORT_BATCHES_PER_RUN', defaultImportBatchesPerRun),
    importParallelBatches: integer('IMPORT_PARALLEL_BATCHES', defaultImportParallelBatches),
    importMerchantIds: list('IMPORT_MERCHANT_IDS', []),
    recordChannels: recordChannels('RECORD_WEBHOOK_CHANNELS'),
    recordPartitionsMonthsAhead: integer('RECORD_PARTITIONS_MONTHS_AHEAD', 3),
    reconciliationScheduleId: text('RECONCILIATION_SCHEDULE_ID', 'reconciliation'),
    // 01:30 UTC: the day has ended, and a posting retried after a short outage has landed.
    reconciliationCron: text('RECONCILIATION_CRON', '30 1 * * *'),
    payoutScheduleId: text('PAYOUT_SCHEDULE_ID', 'payouts'),
    // 02:00 UTC: after the night's settlements and reconciliation.
    payoutCron: text('PAYOUT_CRON', '0 2 * * *'),
    payoutWaitMs: integer('PAYOUT_WAIT_MS', 10_000),
    payoutProvider: text('PAYOUT_PROVIDER', 'stripe') as ProviderName,
    payoutDefaultSchedule: text('PAYOUT_DEFAULT_SCHEDULE', 'daily') as PayoutSchedule,
    payoutMinimumAmountMinor: BigInt(integer('PAYOUT_MINIMUM_AMOUNT_MINOR', 100)),
    payoutTiming: {
      submitTimeoutMs: integer('PAYOUT_SUBMIT_TIMEOUT_MS', defaultPayoutTiming.submitTimeoutMs),
      lookupTimeoutMs: integer('PAYOUT_LOOKUP_TIMEOUT_MS', defaultPayoutTiming.lookupTimeoutMs),
      statusPollMs: integer('PAYOUT_STATUS_POLL_MS', defaultPayoutTiming.statusPollMs),
    },
    payoutMerchantIds: list('PAYOUT_MERCHANT_IDS', []),
  };
}
