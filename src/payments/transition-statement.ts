import { Prisma, type Db } from '../db/prisma.ts';
import type { LedgerStep } from '../domain/ledger-step.ts';
import type { PaymentEventRecord, PaymentView, RefundView } from '../domain/payment-view.ts';
import { jsonSafe, outboxRow } from '../events/outbox.ts';
import { newId } from '../ids.ts';
import { assertPostable, transactionIdFor, withLockRetry } from '../ledger/ledger.ts';
import type { PaymentParty, Recipe } from '../ledger/payment-recipes.ts';
import { announcement } from './read-model.ts';
import type { ColumnCipher } from '../crypto/column-cipher.ts';
import { sealPaymentSecrets, type SealedPaymentSecrets } from './payment-secrets.ts';
import type { PaymentNotes } from './payment-details.ts';

// A payment transition as ONE SQL statement: the snapshot, its numbered event, the outbox
// event, the refund row and the ledger posting are data-modifying parts of one WITH query, so
// they commit together in one round trip, with no interactive transaction to open and close.
// The posting's transaction id is derived from its idempotency key, so the refund row and the
// announced payload can name it in the same statement, and a retry names the same one. The
// account rows the ledger locks are held for this one statement only.

export interface TransitionInput {
  view: PaymentView;
  event: PaymentEventRecord;
  /** The refund this transition creates. */
  refund?: RefundView | undefined;
  ledger?: LedgerStep | undefined;
  /** The ledger step's recipe, with its accounts already ensured. */
  recipe?: Recipe | undefined;
  party: PaymentParty;
  /**
   * The payment's description and metadata as its row holds them (POST /v1/payments/:id changes
   * them there, not in the workflow: src/payments/payment-details.ts), for the event announced.
   */
  notes?: PaymentNotes | undefined;
  /**
   * The workflow task recording this (workflows/task-mark.ts): larger for a task that replaced a
   * lost one, whose transitions may differ from what the lost task recorded at the same
   * versions. The larger mark wins; 0 when unknown.
   */
  taskMark?: bigint | undefined;
}

/** JSON text for a jsonb parameter; bigint amounts become JSON integers, as in every API answer. */
const json = (value: unknown) => JSON.stringify(jsonSafe(value));

/** `sealed`: the row's encrypted columns, needed when the statement inserts it (version 1). */
function snapshotPart(view: PaymentView, sealed?: SealedPaymentSecrets, taskMark = 0n): Prisma.Sql {
  const state = Prisma.sql`
    ${view.status}, ${view.amountCapturable}, ${view.amountCaptured}, ${view.amountRefunded}, ${view.fee},
    ${view.netAmount}, ${view.provider}, ${view.providerChargeId}, ${view.cardBrand}, ${view.cardLast4},
    ${view.failureCode}, ${view.failureMessage}, ${view.cancellationReason}, ${view.settled}, ${view.version}`;
  const columns = Prisma.sql`status, amount_capturable, amount_captured, amount_refunded, fee, net_amount, provider,
    provider_charge_id, card_brand, card_last4, failure_code, failure_message, cancellation_reason, settled, version`;
  if (view.version === 1) {
    if (!sealed) throw new Error('a payment row is inserted with its encrypted columns');
    return Prisma.sql`INSERT INTO payments (id, merchant_id, amount, currency, capture_method, source_type,
        card_fingerprint, wallet_account_id, customer, customer_index, description, metadata, created_at, updated_at,
        ${columns})
      VALUES (${view.id}, ${view.merchantId}, ${view.amount}, ${view.currency}, ${view.captureMethod},
        ${view.sourceType}, ${view.cardFingerprint}, ${view.walletAccountId}, ${sealed.customer},
        ${sealed.customerIndex}, ${sealed.description},
        ${sealed.metadata === null ? null : JSON.stringify(sealed.metadata)}::jsonb, ${new Date(view.createdAt)},
        now(), ${state})
      ON CONFLICT (id) DO NOTHING`;
  }
  // A late retry of an older transition must not overwrite a newer snapshot, nor a lost workflow
  // task's late step what the task that replaced it wrote; that task's steps overwrite the lost
  // one's, at any version (its path may have stopped short of where the lost one got).
  return Prisma.sql`UPDATE payments SET (${columns}, task_mark, updated_at) = (${state}, ${taskMark}, now())
    WHERE id = ${view.id} AND (task_mark, version) < (${taskMark}, ${view.version})`;
}

/**
 * The numbered event: a retry finds it recorded and changes nothing; a later workflow task
 * rewrites what a lost one recorded at its version (the one update payment_events allows); a
 * lost task's late step adds nothing once a later task has recorded.
 */
function eventPart(paymentId: string, event: PaymentEventRecord, taskMark = 0n): Prisma.Sql {
  return Prisma.sql`INSERT INTO payment_events (id, payment_id, version, type, data, task_mark)
    SELECT ${newId('pev')}, ${paymentId}, ${event.version}, ${event.type}, ${json(event.data)}::jsonb, ${taskMark}
    WHERE NOT EXISTS (SELECT 1 FROM payment_events WHERE payment_id = ${paymentId} AND task_mark > ${taskMark})
    ON CONFLICT (payment_id, version) DO UPDATE SET type = EXCLUDED.type, data = EXCLUDED.data,
      task_mark = EXCLUDED.task_mark
    WHERE payment_events.task_mark < EXCLUDED.task_mark`;
}

/**
 * The announced event, once per version. A later workflow task that rewrites a version a lost
 * one announced announces its own under a key of its own (the merchant hears of the correction);
 * a lost task's late step announces nothing once a later task has recorded.
 */
function outboxPart(
  cipher: ColumnCipher,
  view: PaymentView,
  event: PaymentEventRecord,
  taskMark = 0n,
): Prisma.Sql | undefined {
  const outbound = announcement(view, event);
  if (!outbound) return undefined;
  const row = outboxRow(cipher, outbound);
  const stored = (condition: Prisma.Sql) =>
    Prisma.sql`EXISTS (SELECT 1 FROM payment_events WHERE payment_id = ${view.id} AND ${condition})`;
  return Prisma.sql`INSERT INTO events (id, merchant_id, type, resource_id, data, source_key)
    SELECT ${row.id}, ${row.merchantId}, ${row.type}, ${row.resourceId}, ${JSON.stringify(row.data)}::jsonb,
      CASE WHEN ${stored(Prisma.sql`version = ${event.version} AND task_mark < ${taskMark}`)}
        THEN ${`${row.sourceKey}:${taskMark}`} ELSE ${row.sourceKey} END
    WHERE NOT ${stored(Prisma.sql`task_mark > ${taskMark}`)}
    ON CONFLICT DO NOTHING`;
}

/**
 * The refund row. A refund recorded `pending` while its provider's answer was looked up is
 * completed in place (status, provider refund id, ledger transaction); its created_at stays.
 */
function refundPart(paymentId: string, refund: RefundView): Prisma.Sql {
  return Prisma.sql`INSERT INTO refunds (id, payment_id, amount, reason, status, provider_refund_id, transaction_id,
      created_at, updated_at)
    VALUES (${refund.id}, ${paymentId}, ${refund.amount}, ${refund.reason}, ${refund.status},
      ${refund.providerRefundId}, ${refund.transactionId}, ${new Date(refund.createdAt)}, now())
    ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status,
      provider_refund_id = COALESCE(EXCLUDED.provider_refund_id, refunds.provider_refund_id),
      transaction_id = COALESCE(EXCLUDED.transaction_id, refunds.transaction_id), updated_at = now()
    RETURNING created_at`;
}

/** The ledger call; it returns the transaction id (null for a released hold). */
function ledgerPart(input: TransitionInput, transactionId: string | null): Prisma.Sql {
  const { ledger, recipe, party } = input;
  if (!ledger) return Prisma.sql`SELECT NULL::text AS transaction_id`;
  if (ledger.kind === 'release_hold') {
    return Prisma.sql`SELECT NULL::text AS transaction_id FROM ledger_release_hold(${party.paymentId}, ${ledger.status})`;
  }
  if (!recipe || !transactionId) throw new Error(`ledger step ${ledger.kind} has no recipe`);
  const posting = recipe.posting;
  assertPostable(posting);
  const entryIds = posting.entries.map(() => newId('ent'));
  const accountIds = posting.entries.map((entry) => entry.accountId);
  const amounts = posting.entries.map((entry) => entry.amount);
  const metadata = posting.metadata === undefined ? null : json(posting.metadata);
  // A wallet capture turns its hold into the posting; the uncaptured rest becomes available.
  if (ledger.kind === 'capture' && party.walletAccountId) {
    return Prisma.sql`SELECT transaction_id FROM ledger_capture_hold(${party.paymentId}, ${ledger.amount}::bigint,
      ${transactionId}, ${posting.kind}, ${posting.idempotencyKey}, ${metadata}::jsonb, ${entryIds}::text[],
      ${accountIds}::text[], ${amounts}::bigint[])`;
  }
  return Prisma.sql`SELECT transaction_id FROM ledger_post(${transactionId}, ${posting.kind},
    ${posting.reference ?? null}, ${posting.idempotencyKey}, ${metadata}::jsonb, ${entryIds}::text[],
    ${accountIds}::text[], ${amounts}::bigint[])`;
}

/** What recording a transition returns to the workflow, which has no clock of its own to read. */
export interface RecordedTransition {
  /** The ledger transaction's id, or null when the transition posts nothing. */
  transactionId: string | null;
  /** When it was recorded: a refund's created_at as stored (its first recording's, on a retry). */
  recordedAtMs: number;
}

/** What the statement saw before it ran, for metrics: a retry finds its own version already stored. */
export interface TransitionEffect {
  /** The payment's status before this statement; null when the row did not exist. */
  previousStatus: string | null;
  /** False when this version was already recorded (a retried activity, a lost task's late step): nothing changed. */
  fresh: boolean;
}

/** Records the transition in one statement. */
export async function recordTransitionStatement(
  db: Db,
  input: TransitionInput,
  cipher: ColumnCipher,
): Promise<RecordedTransition & TransitionEffect> {
  const recordedAt = new Date();
  const taskMark = input.taskMark ?? 0n;
  const transactionId = input.recipe ? transactionIdFor(input.recipe.posting.idempotencyKey) : null;
  let view = input.view;
  const parts: Prisma.Sql[] = [];
  if (input.refund) {
    const refund = { ...input.refund, transactionId, createdAt: recordedAt.toISOString() };
    view = { ...view, refunds: view.refunds.map((known) => (known.id === refund.id ? refund : known)) };
    parts.push(Prisma.sql`refund AS (${refundPart(view.id, refund)})`);
  }
  parts.push(
    // Every part of one WITH statement reads the same snapshot: this sees the row before the update.
    Prisma.sql`prior AS (SELECT status, version, task_mark FROM payments WHERE id = ${view.id})`,
    Prisma.sql`snapshot AS (${snapshotPart(view, undefined, taskMark)})`,
    Prisma.sql`event AS (${eventPart(view.id, input.event, taskMark)})`,
  );
  const announced = input.notes
    ? { ...view, description: input.notes.description, metadata: input.notes.metadata as PaymentView['metadata'] }
    : view;
  const outbox = outboxPart(cipher, announced, input.event, taskMark);
  if (outbox) parts.push(Prisma.sql`outbox AS (${outbox})`);
  parts.push(Prisma.sql`posted AS (${ledgerPart(input, transactionId)})`);
  // A retried statement finds the refund row (and the outbox event) of its first run: the
  // refund's created_at is the one stored then, so the answer, GET and the event agree.
  const refundCreatedAt = input.refund ? Prisma.sql`(SELECT created_at FROM refund)` : Prisma.sql`NULL::timestamptz`;
  const rows = await withLockRetry(
    () =>
      db.$queryRaw<
        {
          transaction_id: string | null;
          refund_created_at: Date | null;
          prior_status: string | null;
          prior_version: number | null;
          prior_task_mark: bigint | null;
        }[]
      >`
        WITH ${Prisma.join(parts, ', ')} SELECT transaction_id, ${refundCreatedAt} AS refund_created_at,
          (SELECT status FROM prior) AS prior_status, (SELECT version FROM prior) AS prior_version,
          (SELECT task_mark FROM prior) AS prior_task_mark FROM posted`,
  );
  const posted = rows[0]?.transaction_id ?? null;
  // The key names one transaction: a replay finds the first one, which bears the same id.
  if (posted !== transactionId) throw new Error(`ledger returned ${posted} for a posting keyed ${transactionId}`);
  const priorVersion = rows[0]?.prior_version ?? null;
  const priorTaskMark = BigInt(rows[0]?.prior_task_mark ?? 0n);
  return {
    transactionId: posted,
    recordedAtMs: (rows[0]?.refund_created_at ?? recordedAt).getTime(),
    previousStatus: rows[0]?.prior_status ?? null,
    fresh:
      priorVersion === null || priorTaskMark < taskMark || (priorTaskMark === taskMark && priorVersion < view.version),
  };
}

/**
 * Records a new payment (version 1) and counts, in the same statement, the merchant's earlier
 * payments by its customer and its card within the velocity window (the counts do not see the
 * new row). Velocity is per merchant: another tenant's traffic never blocks this one's customers.
 */
export async function openPaymentStatement(
  db: Db,
  input: { view: PaymentView; event: PaymentEventRecord; windowMs: number },
  cipher: ColumnCipher,
): Promise<{ customerPaymentsInWindow: number; cardPaymentsInWindow: number; fresh: boolean }> {
  const { view, event } = input;
  if (view.version !== 1) throw new Error(`a payment opens at version 1, not ${view.version}`);
  const since = new Date(Date.parse(view.createdAt) - input.windowMs);
  const sealed = sealPaymentSecrets(cipher, view);
  const parts = [
    Prisma.sql`snapshot AS (${snapshotPart(view, sealed)})`,
    Prisma.sql`event AS (${eventPart(view.id, event)})`,
  ];
  const outbox = outboxPart(cipher, view, event);
  if (outbox) parts.push(Prisma.sql`outbox AS (${outbox})`);
  const recent = (condition: Prisma.Sql) =>
    Prisma.sql`(SELECT count(*)::int FROM payments
      WHERE merchant_id = ${view.merchantId} AND ${condition} AND id <> ${view.id}
        AND created_at >= ${since})`;
  // The customer by its blind index under every key (rows written before a rotation count too);
  // rows from before encryption have none until `keys:rotate` gives them one.
  const customerIndexes = view.customer === null ? [] : cipher.indexes('payments.customer', view.customer);
  const rows = await withLockRetry(
    () => db.$queryRaw<{ customer_payments: number; card_payments: number; existed: boolean }[]>`
      WITH ${Prisma.join(parts, ', ')}
      SELECT ${recent(Prisma.sql`customer_index = ANY(${customerIndexes}::text[])`)} AS customer_payments,
        ${recent(Prisma.sql`card_fingerprint = ${view.cardFingerprint}`)} AS card_payments,
        EXISTS (SELECT 1 FROM payments WHERE id = ${view.id}) AS existed`,
  );
  const row = rows[0];
  if (!row) throw new Error('opening a payment returned no row');
  return {
    customerPaymentsInWindow: row.customer_payments,
    cardPaymentsInWindow: row.card_payments,
    fresh: !row.existed,
  };
}
