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

export interface Config {
  host: string;
  port: number;
  /** Unset: npm start runs an embedded PostgreSQL, tests create one database per run. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** Unset: a Temporal CLI dev server is found or installed and started. */
  temporalAddress: string | undefined;
  temporalNamespace: string;
  taskQueue: string;
  adminApiKey: string | undefined;
  providerSimPort: number;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  rateLimitPerSecond: number;
  idempotencyKeyTtlMs: number;
  /** A request holding an idempotency key longer than this is presumed dead and may be retried. */
  idempotencyLockTimeoutMs: number;
  /** How long POST /deposits and /transfers wait for the workflow before answering 202. */
  depositWaitMs: number;
  /** Transfers above this are blocked by the risk check. */
  maxTransferAmountMinor: bigint;
}

export function loadConfig(): Config {
  return {
    host: text('HOST', '127.0.0.1'),
    port: integer('PORT', 3000),
    databaseUrl: optionalText('DATABASE_URL'),
    databasePoolSize: integer('DATABASE_POOL_SIZE', 10),
    temporalAddress: optionalText('TEMPORAL_ADDRESS'),
    temporalNamespace: text('TEMPORAL_NAMESPACE', 'default'),
    taskQueue: text('TEMPORAL_TASK_QUEUE', 'payments'),
    adminApiKey: optionalText('ADMIN_API_KEY'),
    providerSimPort: integer('PROVIDER_SIM_PORT', 4010),
    bodyLimitBytes: integer('BODY_LIMIT_BYTES', 64 * 1024),
    requestTimeoutMs: integer('REQUEST_TIMEOUT_MS', 30_000),
    rateLimitPerSecond: integer('RATE_LIMIT_PER_SECOND', 200),
    idempotencyKeyTtlMs: integer('IDEMPOTENCY_KEY_TTL_MS', 24 * 60 * 60 * 1000),
    idempotencyLockTimeoutMs: integer('IDEMPOTENCY_LOCK_TIMEOUT_MS', 60_000),
    depositWaitMs: integer('DEPOSIT_WAIT_MS', 10_000),
    maxTransferAmountMinor: BigInt(integer('MAX_TRANSFER_AMOUNT_MINOR', 100_000_000)),
  };
}
