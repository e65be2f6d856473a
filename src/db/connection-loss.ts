// A lost or unobtainable database connection is an outage, not a bug: the request did nothing
// it can be blamed for, and the same request succeeds once a fresh connection is had. The API
// answers these 503 with Retry-After (src/api/errors.ts); activities are retried by Temporal.

/** SQLSTATE classes and codes that mean the connection, not the statement, failed. */
const connectionStates = new Set(['57P01', '57P02', '57P03', '53300']);
const connectionStateClass = '08';

/** Driver adapter error kinds (@prisma/adapter-pg) that mean no usable connection. */
const connectionKinds = new Set([
  'ConnectionClosed',
  'DatabaseNotReachable',
  'SocketTimeout',
  'TooManyConnections',
  'TlsConnectionError',
]);

/** Prisma's own codes for an unreachable server, a closed connection and a pool wait past its timeout. */
const prismaConnectionCodes = new Set(['P1001', 'P1002', 'P1017', 'P2024']);

/** node-postgres' messages for a socket that ended or a pool that gave no connection in time. */
const driverMessages = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error/,
];

interface ErrorLike {
  code?: unknown;
  kind?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: unknown };
}

function isLostHere(error: ErrorLike): boolean {
  if (typeof error.kind === 'string') {
    if (connectionKinds.has(error.kind)) return true;
    if (error.kind === 'postgres' && typeof error.code === 'string') {
      return connectionStates.has(error.code) || error.code.startsWith(connectionStateClass);
    }
  }
  if (typeof error.code === 'string' && prismaConnectionCodes.has(error.code)) return true;
  if (typeof error.code === 'string' && connectionStates.has(error.code)) return true;
  return typeof error.message === 'string' && driverMessages.some((pattern) => pattern.test(error.message as string));
}

/** Whether an error, or one it wraps, is a lost or unobtainable database connection. */
export function isConnectionLoss(error: unknown): boolean {
  let current: unknown = error;
  // Prisma wraps the adapter's error, which wraps the driver's: a few levels at most.
  for (let depth = 0; depth < 6 && current !== null && typeof current === 'object'; depth++) {
    const candidate = current as ErrorLike;
    if (isLostHere(candidate)) return true;
    current = candidate.meta?.driverAdapterError ?? candidate.cause;
  }
  return false;
}
