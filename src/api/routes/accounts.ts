import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import type { AppDependencies } from '../app.ts';
import type { depositWorkflow } from '../../../workflows/deposit.ts';
import type { DepositView } from '../../../activities/deposits.ts';
import { authenticateMerchant } from '../auth.ts';
import { idempotent } from '../idempotency.ts';
import { createAccount } from '../../ledger/ledger.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { isCurrencyCode, toJsonAmount } from '../../domain/money.ts';
import { IdParams, IdempotencyHeaders, withErrors } from '../schemas/common.ts';
import { Account, CreateAccountBody, CreateDepositBody, Deposit } from '../schemas/accounts.ts';

declare module 'fastify' {
  interface FastifyRequest {
    merchantId: string;
  }
}

interface AccountRow {
  id: string;
  type: string;
  currency: string;
  balance: bigint;
  held: bigint;
  reference: string | null;
  createdAt: Date;
}

function presentAccount(account: AccountRow): Account {
  return {
    id: account.id,
    object: 'account',
    type: account.type,
    currency: account.currency,
    balance: toJsonAmount(account.balance),
    available: toJsonAmount(account.balance - account.held),
    held: toJsonAmount(account.held),
    reference: account.reference,
    created_at: account.createdAt.toISOString(),
  };
}

function presentDeposit(deposit: DepositView): Deposit {
  return {
    id: deposit.id,
    object: 'deposit',
    account_id: deposit.accountId,
    amount: toJsonAmount(deposit.amount),
    currency: deposit.currency,
    reference: deposit.reference,
    status: deposit.status,
    transaction_id: deposit.transactionId,
    created_at: deposit.createdAt,
  };
}

/** Derived from the workflow id, so every retry of one request names the same deposit. */
function depositIdFor(workflowId: string): string {
  return `dep_${createHash('sha256').update(workflowId).digest('base64url').slice(0, 22)}`;
}

async function startOrFind(
  deps: AppDependencies,
  workflowId: string,
  input: Parameters<typeof depositWorkflow>[0],
): Promise<WorkflowHandle<typeof depositWorkflow>> {
  try {
    return await deps.temporal.workflow.start<typeof depositWorkflow>('depositWorkflow', {
      workflowId,
      taskQueue: deps.config.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (error) {
    // A closed run with this id is the earlier attempt of this very request.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return deps.temporal.workflow.getHandle(workflowId);
    throw error;
  }
}

async function resultWithin<T>(promise: Promise<T>, waitMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), waitMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function accountRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.decorateRequest('merchantId', '');
  app.addHook('onRequest', async (request) => {
    request.merchantId = await authenticateMerchant(deps.prisma, request);
  });

  const findAccount = async (merchantId: string, id: string): Promise<AccountRow> => {
    const account = await deps.prisma.account.findFirst({ where: { id, merchantId } });
    if (!account) throw new PaymentsError('resource_missing', `No such account: '${id}'.`, 'id');
    return account;
  };

  app.post(
    '/v1/accounts',
    { schema: { tags: ['accounts'], body: CreateAccountBody, response: withErrors({ 201: Account }) } },
    async (request, reply) => {
      if (!isCurrencyCode(request.body.currency)) {
        throw new PaymentsError(
          'parameter_invalid',
          `Unknown ISO 4217 currency: ${request.body.currency}.`,
          'currency',
        );
      }
      const account = await createAccount(deps.prisma, {
        merchantId: request.merchantId,
        type: request.body.type,
        currency: request.body.currency,
        reference: request.body.reference,
      });
      return reply.status(201).send(presentAccount(account));
    },
  );

  app.get(
    '/v1/accounts/:id',
    { schema: { tags: ['accounts'], params: IdParams, response: withErrors({ 200: Account }) } },
    async (request) => presentAccount(await findAccount(request.merchantId, request.params.id)),
  );

  app.post(
    '/v1/accounts/:id/deposits',
    {
      schema: {
        tags: ['accounts'],
        params: IdParams,
        headers: IdempotencyHeaders,
        body: CreateDepositBody,
        response: withErrors({ 201: Deposit, 202: Deposit }),
      },
    },
    async (request, reply) => {
      const { merchantId } = request;
      const account = await findAccount(merchantId, request.params.id);
      return idempotent(deps.prisma, idempotencySettings(deps), request, reply, merchantId, async () => {
        const workflowId = `deposit:${merchantId}:${request.headers['idempotency-key']}`;
        const input = {
          depositId: depositIdFor(workflowId),
          merchantId,
          accountId: account.id,
          amount: BigInt(request.body.amount),
          reference: request.body.reference,
        };
        const handle = await startOrFind(deps, workflowId, input);
        const deposit = await resultWithin(handle.result(), deps.config.depositWaitMs);
        if (deposit) return { status: 201, body: presentDeposit(deposit) };
        return {
          status: 202,
          body: presentDeposit({
            ...input,
            id: input.depositId,
            currency: account.currency,
            status: 'pending',
            transactionId: null,
            createdAt: new Date().toISOString(),
          }),
        };
      });
    },
  );

  app.get(
    '/v1/deposits/:id',
    { schema: { tags: ['accounts'], params: IdParams, response: withErrors({ 200: Deposit }) } },
    async (request) => {
      const deposit = await deps.prisma.deposit.findFirst({
        where: { id: request.params.id, merchantId: request.merchantId },
      });
      if (!deposit) throw new PaymentsError('resource_missing', `No such deposit: '${request.params.id}'.`, 'id');
      return presentDeposit({ ...deposit, status: 'succeeded', createdAt: deposit.createdAt.toISOString() });
    },
  );
}

function idempotencySettings(deps: AppDependencies) {
  return { keyTtlMs: deps.config.idempotencyKeyTtlMs, lockTimeoutMs: deps.config.idempotencyLockTimeoutMs };
}
