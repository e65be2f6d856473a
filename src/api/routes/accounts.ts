import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDependencies } from '../dependencies.ts';
import type { depositWorkflow } from '../../../workflows/deposit.ts';
import type { Prisma } from '../../db/prisma.ts';
import { idempotencySettings, idempotent, idempotentIfKeyed } from '../idempotency.ts';
import { resourceIdFor, resultBefore, startOrFind } from '../workflow-runs.ts';
import { deadlineAfter } from '../answer-deadlines.ts';
import { balance, createAccount, entries } from '../../ledger/ledger.ts';
import { PaymentsError } from '../../domain/errors.ts';
import { isCurrencyCode, toJsonAmount } from '../../domain/money.ts';
import { IdParams, IdempotencyHeaders, OptionalIdempotencyHeaders, withErrors } from '../schemas/common.ts';
import {
  Account,
  AccountList,
  AccountListQuery,
  DepositList,
  DepositListQuery,
  UpdateAccountBody,
  Balance,
  BalanceQuery,
  CreateAccountBody,
  CreateDepositBody,
  Deposit,
  EntriesQuery,
  EntryList,
} from '../schemas/accounts.ts';
import { queryInstant } from '../query-time.ts';
import { presentDeposit } from '../../deposits/public-deposit.ts';
import { presentAccount, type AccountFacts } from '../../accounts/public-account.ts';
import { openAccountNotes, sealAccountNotes } from '../../accounts/account-notes.ts';
import { cipherFor } from '../../crypto/column-cipher.ts';
import { requireKeyring } from '../../config.ts';
import { updateAccountDetails } from '../../accounts/account-details.ts';
import { listPage, pageRequest, presentList } from '../list-pages.ts';

/** The notes are stored encrypted (src/accounts/account-notes.ts). */
const notesCipher = (deps: AppDependencies) => cipherFor(requireKeyring(deps.config));

/** The merchant's account, notes readable; 404 naming `param` (where the id came from) for unknown and others' ids. */
export async function findMerchantAccount(
  deps: AppDependencies,
  merchantId: string,
  id: string,
  param = 'id',
): Promise<AccountFacts> {
  const account = await deps.prisma.account.findFirst({ where: { id, merchantId } });
  if (!account) throw new PaymentsError('resource_missing', `No such account: '${id}'.`, param);
  return openAccountNotes(notesCipher(deps), account);
}

export async function accountRoutes(fastify: FastifyInstance, deps: AppDependencies): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const findAccount = (merchantId: string, id: string) => findMerchantAccount(deps, merchantId, id);

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
      const externalReference = request.body.external_reference;
      const taken = async () =>
        externalReference !== undefined &&
        (await deps.prisma.account.count({ where: { merchantId: request.merchantId, externalReference } })) > 0;
      const refuseTaken = () =>
        new PaymentsError(
          'parameter_invalid',
          `Another account already has external reference '${externalReference}'.`,
          'external_reference',
        );
      if (await taken()) throw refuseTaken();
      const account = await createAccount(deps.prisma, {
        merchantId: request.merchantId,
        type: request.body.type,
        currency: request.body.currency,
        reference: request.body.reference,
        externalReference,
        ...sealAccountNotes(notesCipher(deps), {
          description: request.body.description ?? null,
          metadata: request.body.metadata ?? null,
        }),
      }).catch(async (error: unknown) => {
        // Two creations with one reference at once: the unique index lets one through.
        if (await taken()) throw refuseTaken();
        throw error;
      });
      return reply.status(201).send(presentAccount(openAccountNotes(notesCipher(deps), account)));
    },
  );

  app.get(
    '/v1/accounts',
    { schema: { tags: ['accounts'], querystring: AccountListQuery, response: withErrors({ 200: AccountList }) } },
    async (request) => {
      const { merchantId, query } = request;
      const where: Prisma.AccountWhereInput = { merchantId };
      if (query.type !== undefined) where.type = query.type;
      if (query.currency !== undefined) where.currency = query.currency;
      const page = await listPage(
        pageRequest(query),
        {
          position: (id) =>
            deps.prisma.account.findFirst({ where: { id, merchantId }, select: { id: true, createdAt: true } }),
          rows: (page) => deps.prisma.account.findMany({ ...page, where: { AND: [where, page.where] } }),
        },
        'account',
      );
      const cipher = notesCipher(deps);
      return presentList(page, (account) => presentAccount(openAccountNotes(cipher, account)));
    },
  );

  app.get(
    '/v1/accounts/:id',
    { schema: { tags: ['accounts'], params: IdParams, response: withErrors({ 200: Account }) } },
    async (request) => presentAccount(await findAccount(request.merchantId, request.params.id)),
  );

  // The merchant's notes on an account: the row and an account.updated event.
  app.post(
    '/v1/accounts/:id',
    {
      schema: {
        tags: ['accounts'],
        params: IdParams,
        headers: OptionalIdempotencyHeaders,
        body: UpdateAccountBody,
        response: withErrors({ 200: Account }),
      },
    },
    async (request, reply) => {
      const { merchantId, body } = request;
      const settings = idempotencySettings(deps.config);
      return idempotentIfKeyed(deps.prisma, settings, request, reply, merchantId, async () => {
        const updated = await updateAccountDetails(deps.prisma, notesCipher(deps), merchantId, request.params.id, {
          description: body.description,
          metadata: body.metadata,
        });
        if (!updated) throw new PaymentsError('resource_missing', `No such account: '${request.params.id}'.`, 'id');
        return { status: 200, body: presentAccount(updated) };
      });
    },
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
      const deadline = deadlineAfter(reply, deps.config.depositWaitMs);
      const account = await findAccount(merchantId, request.params.id);
      return idempotent(deps.prisma, idempotencySettings(deps.config), request, reply, merchantId, async () => {
        const workflowId = `deposit:${merchantId}:${request.headers['idempotency-key']}`;
        const input = {
          depositId: resourceIdFor('dep', workflowId),
          merchantId,
          accountId: account.id,
          amount: BigInt(request.body.amount),
          reference: request.body.reference,
        };
        const handle = await startOrFind<typeof depositWorkflow>(
          deps.temporal,
          deps.config.taskQueue,
          'depositWorkflow',
          workflowId,
          [input],
          deadline,
        );
        const deposit = await resultBefore(deps.temporal, deadline, handle);
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
    '/v1/accounts/:id/balance',
    {
      schema: {
        tags: ['accounts'],
        params: IdParams,
        querystring: BalanceQuery,
        response: withErrors({ 200: Balance }),
      },
    },
    async (request) => {
      const account = await findAccount(request.merchantId, request.params.id);
      if (request.query.at === undefined) {
        return {
          object: 'balance' as const,
          account_id: account.id,
          currency: account.currency,
          balance: toJsonAmount(account.balance),
          available: toJsonAmount(account.balance - account.held),
          held: toJsonAmount(account.held),
          at: new Date().toISOString(),
        };
      }
      const at = queryInstant(request.query.at, 'at');
      return {
        object: 'balance' as const,
        account_id: account.id,
        currency: account.currency,
        balance: toJsonAmount(await balance(deps.prisma, account.id, { at })),
        at: at.toISOString(),
      };
    },
  );

  app.get(
    '/v1/accounts/:id/entries',
    {
      schema: {
        tags: ['accounts'],
        params: IdParams,
        querystring: EntriesQuery,
        response: withErrors({ 200: EntryList }),
      },
    },
    async (request) => {
      const account = await findAccount(request.merchantId, request.params.id);
      const page = await entries(deps.prisma, account.id, {
        limit: request.query.limit,
        startingAfter: request.query.starting_after,
      });
      return {
        object: 'list' as const,
        has_more: page.hasMore,
        data: page.data.map((entry) => ({
          id: entry.id,
          object: 'entry' as const,
          account_id: entry.accountId,
          transaction_id: entry.transactionId,
          kind: entry.transaction.kind,
          reference: entry.transaction.reference,
          amount: toJsonAmount(entry.amount),
          currency: entry.currency,
          balance_after: toJsonAmount(entry.balanceAfter),
          created_at: entry.createdAt.toISOString(),
        })),
      };
    },
  );

  app.get(
    '/v1/deposits',
    { schema: { tags: ['accounts'], querystring: DepositListQuery, response: withErrors({ 200: DepositList }) } },
    async (request) => {
      const { merchantId, query } = request;
      const where: Prisma.DepositWhereInput = { merchantId };
      if (query.account_id !== undefined) where.accountId = query.account_id;
      const page = await listPage(
        pageRequest(query),
        {
          position: (id) =>
            deps.prisma.deposit.findFirst({ where: { id, merchantId }, select: { id: true, createdAt: true } }),
          rows: (page) => deps.prisma.deposit.findMany({ ...page, where: { AND: [where, page.where] } }),
        },
        'deposit',
      );
      return presentList(page, presentDeposit);
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
      return presentDeposit(deposit);
    },
  );
}
