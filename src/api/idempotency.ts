import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PrismaClient } from '../db/prisma.ts';
import { PaymentsError, errorCatalog } from '../domain/errors.ts';
import { errorBody, toPaymentsError } from './errors.ts';
import { settledBy } from './answer-deadlines.ts';
import { cipherFor, type ColumnCipher } from '../crypto/column-cipher.ts';
import type { Keyring } from '../crypto/keyring.ts';

// Stripe-style Idempotency-Key, scoped per merchant: the same key with the same request
// replays the stored status and body (header Idempotent-Replayed: true); with other
// parameters it is refused (422); while the first request still runs, 409. Outcomes the
// client caused (2xx, 4xx) are stored; server failures release the key so a retry runs
// again — safe, because every operation below is itself keyed (workflow id, ledger key).
// A 202 (still running) is not stored either, so a retry sees the final outcome. Either way the
// key keeps the first request's fingerprint: a retry with other parameters is refused (422),
// since it would otherwise join the operation the first request started under this key.

export interface IdempotencySettings {
  keyTtlMs: number;
  lockTimeoutMs: number;
  /** Stored answers are encrypted (src/crypto/column-cipher.ts); an app without keys stores none. */
  cipher: ColumnCipher | undefined;
}

export function idempotencySettings(config: {
  idempotencyKeyTtlMs: number;
  idempotencyLockTimeoutMs: number;
  keyring: Keyring | undefined;
}): IdempotencySettings {
  return {
    keyTtlMs: config.idempotencyKeyTtlMs,
    lockTimeoutMs: config.idempotencyLockTimeoutMs,
    cipher: config.keyring ? cipherFor(config.keyring) : undefined,
  };
}

const bodyColumn = 'idempotency_keys.response_body';

function requireCipher(settings: IdempotencySettings): ColumnCipher {
  if (!settings.cipher) throw new Error('ENCRYPTION_KEYS is unset: idempotent answers cannot be stored');
  return settings.cipher;
}

export interface StoredResponse {
  status: number;
  body: unknown;
}

function fingerprint(request: FastifyRequest): string {
  return createHash('sha256')
    .update(
      `${request.method} ${request.routeOptions.url ?? request.url} ${JSON.stringify(request.params)} ${JSON.stringify(request.body ?? null)}`,
    )
    .digest('hex');
}

type Claim = { kind: 'owned' } | { kind: 'replay'; response: StoredResponse };

const maxClaimAttempts = 3;

/**
 * How long an answer that releases its key (202, 5xx) waits for the release. Under database
 * contention it may finish after the answer: a retry meanwhile is told 409 in progress, and a
 * release failing then leaves a lock that a retry takes over after IDEMPOTENCY_LOCK_TIMEOUT_MS.
 */
const releaseWaitMs = 500;

/**
 * Unlocks the key with nothing stored, so that a retry with the same parameters runs again
 * (it takes the unlocked key over); the fingerprint stays. Waits at most releaseWaitMs.
 */
async function release(prisma: PrismaClient, merchantId: string, key: string): Promise<void> {
  await settledBy(
    prisma.idempotencyKey.updateMany({ where: { merchantId, key, responseStatus: null }, data: { lockedAt: null } }),
    Date.now() + releaseWaitMs,
  );
}

/**
 * A filter for the instant read back: the claim's now() keeps microseconds, the Date read back
 * only milliseconds, so an equality filter would never match a lock set by the claim and its key
 * would stay in progress forever once its request died without releasing it (found by npm run
 * test:chaos, PostgreSQL restarted under load). Another lock within the same millisecond would
 * have to be taken over in that millisecond too.
 */
function sameInstant(at: Date | null): Date | null | { gte: Date; lt: Date } {
  if (at === null) return null;
  return { gte: new Date(at.getTime() - 1), lt: new Date(at.getTime() + 1) };
}

const inProgress = () =>
  new PaymentsError(
    'idempotency_request_in_progress',
    'A request with this Idempotency-Key is still being processed; retry later.',
    'Idempotency-Key',
  );

async function claim(
  prisma: PrismaClient,
  settings: IdempotencySettings,
  merchantId: string,
  key: string,
  request: FastifyRequest,
  attempt = 1,
): Promise<Claim> {
  const print = fingerprint(request);
  const inserted = await prisma.$executeRaw`
    INSERT INTO idempotency_keys (merchant_id, key, fingerprint, method, path, locked_at)
    VALUES (${merchantId}, ${key}, ${print}, ${request.method}, ${request.url}, now())
    ON CONFLICT (merchant_id, key) DO NOTHING`;
  if (inserted === 1) return { kind: 'owned' };

  const row = await prisma.idempotencyKey.findUnique({ where: { merchantId_key: { merchantId, key } } });
  if (!row) {
    // Released between our insert and read (its request ended in 202 or 5xx): try again, a few times.
    if (attempt < maxClaimAttempts) return claim(prisma, settings, merchantId, key, request, attempt + 1);
    throw inProgress();
  }
  const now = Date.now();
  const expired = now - row.createdAt.getTime() > settings.keyTtlMs;
  if (!expired && row.fingerprint !== print) {
    throw new PaymentsError(
      'idempotency_key_reused',
      'Keys for idempotent requests can only be used with the same parameters they were first used with.',
      'Idempotency-Key',
    );
  }
  if (!expired && row.responseStatus !== null) {
    const body = requireCipher(settings).openJson(bodyColumn, row.responseBody);
    return { kind: 'replay', response: { status: row.responseStatus, body } };
  }
  const stale = row.lockedAt === null || now - row.lockedAt.getTime() > settings.lockTimeoutMs;
  if (!expired && !stale) throw inProgress();
  // Expired, or its owner died: take it over with a compare-and-set so one retry wins.
  const taken = await prisma.idempotencyKey.updateMany({
    where: { merchantId, key, lockedAt: sameInstant(row.lockedAt), responseStatus: row.responseStatus },
    data: {
      fingerprint: print,
      lockedAt: new Date(),
      responseStatus: null,
      responseBody: undefined,
      createdAt: new Date(),
      completedAt: null,
      path: request.url,
    },
  });
  if (taken.count === 1) return { kind: 'owned' };
  throw inProgress();
}

/** Runs `execute` at most once per (merchant, key) and replays its stored outcome after. */
export async function idempotent(
  prisma: PrismaClient,
  settings: IdempotencySettings,
  request: FastifyRequest,
  reply: FastifyReply,
  merchantId: string,
  execute: () => Promise<StoredResponse>,
): Promise<FastifyReply> {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string' || key.length === 0) {
    throw new PaymentsError('parameter_missing', 'This request needs an Idempotency-Key header.', 'Idempotency-Key');
  }
  const claimed = await claim(prisma, settings, merchantId, key, request);
  if (claimed.kind === 'replay') {
    return reply.header('Idempotent-Replayed', 'true').status(claimed.response.status).send(claimed.response.body);
  }
  let response: StoredResponse;
  try {
    response = await execute();
  } catch (error) {
    const typed = toPaymentsError(error);
    if (!typed || errorCatalog[typed.code].status >= 500) {
      await release(prisma, merchantId, key);
      throw error;
    }
    response = { status: errorCatalog[typed.code].status, body: errorBody(typed.code, typed.message, typed.param) };
  }
  if (response.status === 202) {
    // Still running: nothing final to replay yet. Releasing the key lets a retry look again;
    // the workflow id keeps that retry from starting a second operation.
    await release(prisma, merchantId, key);
    return reply.status(response.status).send(response.body);
  }
  await prisma.idempotencyKey.update({
    where: { merchantId_key: { merchantId, key } },
    data: {
      responseStatus: response.status,
      responseBody: requireCipher(settings).sealJson(bodyColumn, response.body) ?? undefined,
      completedAt: new Date(),
      lockedAt: null,
    },
  });
  return reply.status(response.status).send(response.body);
}

/** For POSTs where the key is optional: idempotent when the client sent one, plain otherwise. */
export async function idempotentIfKeyed(
  prisma: PrismaClient,
  settings: IdempotencySettings,
  request: FastifyRequest,
  reply: FastifyReply,
  merchantId: string,
  execute: () => Promise<StoredResponse>,
): Promise<FastifyReply> {
  if (request.headers['idempotency-key'] !== undefined) {
    return idempotent(prisma, settings, request, reply, merchantId, execute);
  }
  const response = await execute();
  return reply.status(response.status).send(response.body);
}
