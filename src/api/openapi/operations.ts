import type { ErrorCode } from '../../domain/errors.ts';

// What the API reference says of each operation, keyed `METHOD /openapi/{path}`: the summary,
// the description, its tag, who may call it, what each success status means, the error codes
// it can carry beyond those every operation of its kind can (src/api/openapi/errors.ts adds
// those), and examples a "Try it out" against `npm start` succeeds with. A route with no entry
// here fails test/unit/openapi-document.test.ts.

export const tags = [
  { name: 'Payments', description: 'Card and wallet payments, run by a Temporal workflow each.' },
  { name: 'Refunds', description: "Refunds of a payment's captured amount." },
  { name: 'Accounts', description: 'Customer and merchant accounts of the double-entry ledger.' },
  { name: 'Deposits', description: 'Money credited to an account from outside the platform.' },
  { name: 'Transfers', description: 'Money moved between two accounts of one merchant (hold, then capture).' },
  { name: 'Events', description: 'What happened, in order: the events webhooks deliver.' },
  { name: 'Webhook endpoints', description: 'Where events are delivered, signed, and how each delivery went.' },
  { name: 'API keys', description: "A merchant's API keys: several at once, rolled with a grace window, revoked." },
  { name: 'Payouts', description: "Money paid out of a merchant's available balance to its bank." },
  { name: 'Payment records', description: 'Payments that arrived outside the platform, recorded by reference.' },
  { name: 'Inbound webhooks', description: 'Signed notifications from card providers and record partners.' },
  { name: 'Imports', description: 'Admin: the import of staged payment records.' },
  { name: 'Reconciliation', description: "Admin: provider reports matched against the ledger, and what didn't match." },
  { name: 'Admin', description: 'Admin: merchants, ledger integrity, operating figures.' },
  { name: 'Health', description: 'Liveness and readiness probes.' },
] as const;

export type Tag = (typeof tags)[number]['name'];

/** merchant: a merchant's `sk_test_…` key; admin: ADMIN_API_KEY; signed: a webhook signature; open: nothing. */
export type Access = 'merchant' | 'admin' | 'signed' | 'open';

export interface OperationDoc {
  operationId: string;
  tag: Tag;
  summary: string;
  description: string;
  access: Access;
  /** Each success status the route answers and what it means. */
  success: Readonly<Record<number, string>>;
  /** Codes beyond the common ones of its access, inputs and idempotency. */
  errors?: readonly ErrorCode[];
  example?: {
    body?: unknown;
    /** Path parameters that are not ids (a provider's name): filled in. */
    params?: Readonly<Record<string, string>>;
    /**
     * Path parameters that are ids, each with where the caller gets one. Ids are the caller's
     * own, unknown in advance: a made-up one would only answer 404, so none is filled in and the
     * parameter's description (shown beside the empty field) says where to find it.
     */
    ids?: Readonly<Record<string, string>>;
    query?: Readonly<Record<string, string | number>>;
  };
  /**
   * Why the example, ids filled in, still cannot succeed from the UI against a fresh `npm start`
   * as it is, and what to do first. Without it, it succeeds (test/integration/openapi-examples.test.ts).
   */
  tryItOut?: string;
}

const accountId = 'acct_7c1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f';

const dayMs = 86_400_000;
/**
 * When the payment record of the example was paid: 10:00 UTC the day before the document was
 * built. A fixed date would grow older than RECORD_MAX_AGE_DAYS (365 by default) and the
 * example would then be refused.
 */
const examplePaidAt = new Date(Math.floor(Date.now() / dayMs) * dayMs - dayMs + 10 * 3_600_000).toISOString();

/** Where a caller finds each kind of id (see `ids` above). */
const idFrom = {
  payment: "A payment's id (`pay_…`): `id` in the answer of POST /v1/payments, or in GET /v1/payments.",
  refund:
    "A refund's id (`re_…`): `id` in the answer of POST /v1/payments/{id}/refunds, or in the payment's `refunds`.",
  account: "An account's id (`acct_…`): `id` in the answer of POST /v1/accounts.",
  deposit: "A deposit's id (`dep_…`): `id` in the answer of POST /v1/accounts/{id}/deposits.",
  transfer: "A transfer's id (`tr_…`): `id` in the answer of POST /v1/transfers.",
  event: "An event's id (`evt_…`): `id` of one in GET /v1/events.",
  webhookEndpoint:
    "A webhook endpoint's id (`we_…`): `id` in the answer of POST /v1/webhook_endpoints, or in GET /v1/webhook_endpoints.",
  paymentRecord: "A payment record's id (`rec_…`): `id` in the answer of POST /v1/payment_records.",
  importRun: "An import run's id (`imp_…`): `id` in the answer of POST /v1/imports, or in GET /v1/imports.",
  reconciliationRun:
    "A reconciliation run's id (`rcn_…`): `id` in the answer of POST /v1/reconciliation/runs, or in GET /v1/reconciliation/runs.",
  reconciliationItem: "A reconciliation item's id (`rci_…`): `id` of one in GET /v1/reconciliation/runs/{id}/items.",
  payout: "A payout's id (`pyo_…`): `id` in the answer of POST /v1/payouts, or in GET /v1/payouts.",
  apiKey: "A key's id (`ak_…`): `id` in the answer of POST /v1/api_keys, or in GET /v1/api_keys.",
  merchant: "A merchant's id (`mer_…`): `id` in the answer of POST /v1/merchants, or in GET /v1/merchants.",
} as const;
const action = (verb: string, what: string, extra = ''): string =>
  `${what} The workflow answers within PAYMENT_WAIT_MS: 200 once it has done it, 202 with the payment as it is while it is still at work. An optional Idempotency-Key makes a retry join the first attempt.${extra}`;

const card = { type: 'card', token: 'tok_visa' };
/** What every list says of its paging (src/api/list-pages.ts). */
const paging =
  'Newest first, Stripe-style: `limit` (1–100, default 10), `starting_after` (the last id of a page: the next, older page) or `ending_before` (the first id of a page: the newer page before it), `created[gte|gt|lte|lt]` as an ISO 8601 instant or Unix seconds (bracketed names need `-g` with curl). A cursor that is not one of the caller’s own answers 404 `resource_missing` naming the parameter.';
const notes =
  '`metadata` is merged into the current one (a key set to "" is removed, `null` removes all; at most 50 keys of up to 40 characters, string values of up to 500); `description: null` removes it.';

export const operations: Readonly<Record<string, OperationDoc>> = {
  'POST /v1/payments': {
    operationId: 'createPayment',
    tag: 'Payments',
    summary: 'Create a payment',
    description:
      'Starts a payment of a card (a provider token such as `tok_visa`) or a customer wallet account. It waits up to PAYMENT_WAIT_MS for a stable status: 201 once it has one (`requires_capture`, `succeeded`, `failed`…), 202 while it is still `processing`. A declined card is a payment with status `failed` and its `failure_code`, not an error answer. Idempotency-Key is required: a retry with the same key and body answers the first result.',
    access: 'merchant',
    success: { 201: 'The payment, in a stable status.', 202: 'The payment, still processing: read it again later.' },
    errors: ['resource_missing', 'currency_mismatch', 'amount_too_large'],
    example: {
      body: { amount: 1000, currency: 'USD', source: card, description: 'Order #1001' },
    },
  },
  'GET /v1/payments': {
    operationId: 'listPayments',
    tag: 'Payments',
    summary: 'List payments',
    description: `Payments of this merchant, filtered by status and customer. ${paging} A page carries each payment's refunds only with \`expand[]=refunds\` and its timeline only with \`expand[]=events\`.`,
    access: 'merchant',
    success: { 200: 'A page of payments.' },
    example: { query: { status: 'succeeded', limit: 10 } },
  },
  'GET /v1/payments/{id}': {
    operationId: 'getPayment',
    tag: 'Payments',
    summary: 'Retrieve a payment',
    description:
      'The payment with its refunds; `expand[]=events` adds its timeline (as GET /v1/payments/{id}/events lists it). With `at`, the payment as it was at that instant, folded from its recorded events. Another merchant’s payment answers 404, as an unknown id does.',
    access: 'merchant',
    success: { 200: 'The payment.' },
    example: { ids: { id: idFrom.payment } },
  },
  'POST /v1/payments/{id}': {
    operationId: 'updatePayment',
    tag: 'Payments',
    summary: 'Update a payment',
    description: `Changes the merchant’s notes on a payment, in any status: ${notes} Announced as \`payment.updated\`; later events of the payment carry the new notes. An optional Idempotency-Key makes a retry answer the first result.`,
    access: 'merchant',
    success: { 200: 'The payment, updated.' },
    example: {
      ids: { id: idFrom.payment },
      body: { description: 'Order #1001, gift wrapped', metadata: { order_id: '1001' } },
    },
  },
  'POST /v1/payments/{id}/capture': {
    operationId: 'capturePayment',
    tag: 'Payments',
    summary: 'Capture a payment',
    description: action('capture', 'Captures an authorized payment (`requires_capture`), all of it or `amount`.'),
    access: 'merchant',
    success: { 200: 'The payment, captured.', 202: 'The payment, capture still in progress.' },
    errors: ['payment_unexpected_state', 'amount_too_large'],
    example: { ids: { id: idFrom.payment }, body: { amount: 1000 } },
    tryItOut:
      'Needs a payment of 1000 or more created with `capture_method: manual` (status `requires_capture`): the POST /v1/payments example captures at once.',
  },
  'POST /v1/payments/{id}/cancel': {
    operationId: 'cancelPayment',
    tag: 'Payments',
    summary: 'Cancel a payment',
    description: action('cancel', 'Cancels a payment not captured yet, releasing its authorization.'),
    access: 'merchant',
    success: { 200: 'The payment, canceled.', 202: 'The payment, cancellation still in progress.' },
    errors: ['payment_unexpected_state'],
    example: { ids: { id: idFrom.payment }, body: {} },
    tryItOut: 'Needs a payment not captured yet: one created with `capture_method: manual`.',
  },
  'POST /v1/payments/{id}/approve': {
    operationId: 'approvePayment',
    tag: 'Payments',
    summary: 'Approve a payment in review',
    description: action('approve', 'Approves a payment the risk rules held for review (`requires_review`).'),
    access: 'merchant',
    success: { 200: 'The payment, approved and charged.', 202: 'The payment, approval still in progress.' },
    errors: ['payment_unexpected_state'],
    example: { ids: { id: idFrom.payment }, body: {} },
    tryItOut: 'Needs a payment in `requires_review`: one at or above RISK_REVIEW_ABOVE_MINOR (5000.00 USD by default).',
  },
  'POST /v1/payments/{id}/reject': {
    operationId: 'rejectPayment',
    tag: 'Payments',
    summary: 'Reject a payment in review',
    description: action('reject', 'Rejects a payment held for review: it ends `canceled`.'),
    access: 'merchant',
    success: { 200: 'The payment, rejected.', 202: 'The payment, rejection still in progress.' },
    errors: ['payment_unexpected_state'],
    example: { ids: { id: idFrom.payment }, body: {} },
    tryItOut: 'Needs a payment in `requires_review`: one at or above RISK_REVIEW_ABOVE_MINOR (5000.00 USD by default).',
  },
  'GET /v1/payments/{id}/events': {
    operationId: 'getPaymentTimeline',
    tag: 'Payments',
    summary: "A payment's timeline",
    description: "The payment's public transitions, oldest first, each with the facts of that change.",
    access: 'merchant',
    success: { 200: 'The timeline.' },
    example: { ids: { id: idFrom.payment } },
  },
  'GET /v1/payments/{id}/ledger': {
    operationId: 'getPaymentLedger',
    tag: 'Payments',
    summary: "A payment's ledger transactions",
    description:
      'The double-entry transactions the payment and its refunds posted, oldest first; a platform account’s balance is not shown (null).',
    access: 'merchant',
    success: { 200: 'The transactions.' },
    example: { ids: { id: idFrom.payment } },
  },
  'POST /v1/payments/{id}/refunds': {
    operationId: 'createRefund',
    tag: 'Refunds',
    summary: 'Refund a payment',
    description:
      'Refunds a captured payment, all that is left or `amount`. 201 once the refund has an outcome, 202 while it is still pending. An optional Idempotency-Key makes a retry find the first refund.',
    access: 'merchant',
    success: { 201: 'The refund, with its outcome.', 202: 'The refund, still pending.' },
    errors: ['payment_unexpected_state', 'amount_too_large'],
    example: { ids: { id: idFrom.payment }, body: { amount: 500, reason: 'requested_by_customer' } },
  },
  'GET /v1/refunds/{id}': {
    operationId: 'getRefund',
    tag: 'Refunds',
    summary: 'Retrieve a refund',
    description: 'A refund of one of this merchant’s payments.',
    access: 'merchant',
    success: { 200: 'The refund.' },
    example: { ids: { id: idFrom.refund } },
  },
  'GET /v1/refunds': {
    operationId: 'listRefunds',
    tag: 'Refunds',
    summary: 'List refunds',
    description: `Refunds of this merchant’s payments, of one payment with \`payment_id\`. ${paging}`,
    access: 'merchant',
    success: { 200: 'A page of refunds.' },
    example: { query: { limit: 10 } },
  },
  'GET /v1/payments/{id}/refunds': {
    operationId: 'listPaymentRefunds',
    tag: 'Refunds',
    summary: "List a payment's refunds",
    description: `The refunds of one of this merchant’s payments. ${paging}`,
    access: 'merchant',
    success: { 200: 'A page of refunds.' },
    example: { ids: { id: idFrom.payment }, query: { limit: 10 } },
  },
  'POST /v1/accounts': {
    operationId: 'createAccount',
    tag: 'Accounts',
    summary: 'Create an account',
    description:
      'A customer or merchant account in one currency, with a zero balance. `external_reference` (unique per merchant) is how payment records find it.',
    access: 'merchant',
    success: { 201: 'The account.' },
    errors: ['account_unexpected_state'],
    example: { body: { type: 'customer', currency: 'USD', reference: 'Customer 1001' } },
  },
  'GET /v1/accounts/{id}': {
    operationId: 'getAccount',
    tag: 'Accounts',
    summary: 'Retrieve an account',
    description: 'The account with its balance, available and held amounts.',
    access: 'merchant',
    success: { 200: 'The account.' },
    example: { ids: { id: idFrom.account } },
  },
  'GET /v1/accounts': {
    operationId: 'listAccounts',
    tag: 'Accounts',
    summary: 'List accounts',
    description: `This merchant’s accounts, filtered by \`type\` and \`currency\`, with their balances. ${paging}`,
    access: 'merchant',
    success: { 200: 'A page of accounts.' },
    example: { query: { type: 'customer', currency: 'USD', limit: 10 } },
  },
  'POST /v1/accounts/{id}': {
    operationId: 'updateAccount',
    tag: 'Accounts',
    summary: 'Update an account',
    description: `Changes the merchant’s notes on an account: ${notes} Announced as \`account.updated\`. An optional Idempotency-Key makes a retry answer the first result.`,
    access: 'merchant',
    success: { 200: 'The account, updated.' },
    example: {
      ids: { id: idFrom.account },
      body: { description: 'Wallet of customer 1001', metadata: { tier: 'gold' } },
    },
  },
  'GET /v1/accounts/{id}/balance': {
    operationId: 'getAccountBalance',
    tag: 'Accounts',
    summary: "An account's balance",
    description: 'The balance now, with available and held amounts; with `at`, the balance at that instant.',
    access: 'merchant',
    success: { 200: 'The balance.' },
    example: { ids: { id: idFrom.account } },
  },
  'GET /v1/accounts/{id}/entries': {
    operationId: 'listAccountEntries',
    tag: 'Accounts',
    summary: "An account's ledger entries",
    description: 'The entries posted to the account, newest first, with the balance after each.',
    access: 'merchant',
    success: { 200: 'A page of entries.' },
    example: { ids: { id: idFrom.account } },
  },
  'POST /v1/accounts/{id}/deposits': {
    operationId: 'createDeposit',
    tag: 'Deposits',
    summary: 'Deposit into an account',
    description:
      'Credits the account from outside the platform. Idempotency-Key is required: a retry never credits twice. 201 once posted, 202 when the workflow has not finished within DEPOSIT_WAIT_MS.',
    access: 'merchant',
    success: { 201: 'The deposit, posted.', 202: 'The deposit, still pending.' },
    errors: ['amount_too_large', 'account_unexpected_state', 'currency_mismatch'],
    example: { ids: { id: idFrom.account }, body: { amount: 1050, reference: 'Bank transfer 1001' } },
  },
  'GET /v1/deposits/{id}': {
    operationId: 'getDeposit',
    tag: 'Deposits',
    summary: 'Retrieve a deposit',
    description: 'A deposit into one of this merchant’s accounts.',
    access: 'merchant',
    success: { 200: 'The deposit.' },
    example: { ids: { id: idFrom.deposit } },
  },
  'GET /v1/deposits': {
    operationId: 'listDeposits',
    tag: 'Deposits',
    summary: 'List deposits',
    description: `Deposits into this merchant’s accounts, into one with \`account_id\`. ${paging}`,
    access: 'merchant',
    success: { 200: 'A page of deposits.' },
    example: { query: { limit: 10 } },
  },
  'POST /v1/transfers': {
    operationId: 'createTransfer',
    tag: 'Transfers',
    summary: 'Transfer between accounts',
    description:
      'Moves money between two accounts of this merchant in one currency: a hold on the source, then its capture. Idempotency-Key is required. 201 once it has an outcome (`succeeded` or `failed`), 202 while pending.',
    access: 'merchant',
    success: { 201: 'The transfer, with its outcome.', 202: 'The transfer, still pending.' },
    errors: [
      'resource_missing',
      'currency_mismatch',
      'insufficient_funds',
      'transfer_blocked',
      'amount_too_large',
      'account_unexpected_state',
      'hold_unexpected_state',
    ],
    example: {
      body: {
        from_account_id: accountId,
        to_account_id: 'acct_1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d',
        amount: 1000,
        currency: 'USD',
        description: 'Rent, March',
      },
    },
    tryItOut:
      'Replace `from_account_id` and `to_account_id` with two USD accounts of yours (POST /v1/accounts), the first funded with at least 1000 (POST /v1/accounts/{id}/deposits: its example deposits 1050).',
  },
  'GET /v1/transfers/{id}': {
    operationId: 'getTransfer',
    tag: 'Transfers',
    summary: 'Retrieve a transfer',
    description: 'A transfer between two of this merchant’s accounts.',
    access: 'merchant',
    success: { 200: 'The transfer.' },
    example: { ids: { id: idFrom.transfer } },
  },
  'GET /v1/transfers': {
    operationId: 'listTransfers',
    tag: 'Transfers',
    summary: 'List transfers',
    description: `Transfers between this merchant’s accounts, filtered by \`status\` and by \`account_id\` (either side). ${paging}`,
    access: 'merchant',
    success: { 200: 'A page of transfers.' },
    example: { query: { status: 'succeeded', limit: 10 } },
  },
  'GET /v1/events': {
    operationId: 'listEvents',
    tag: 'Events',
    summary: 'List events',
    description: `This merchant’s events; \`type\` takes a type or a prefix such as \`payment.*\`. ${paging}`,
    access: 'merchant',
    success: { 200: 'A page of events.' },
    example: { query: { type: 'payment.*', limit: 10 } },
  },
  'GET /v1/events/{id}': {
    operationId: 'getEvent',
    tag: 'Events',
    summary: 'Retrieve an event',
    description: 'One event, with the resource as it was when the event happened.',
    access: 'merchant',
    success: { 200: 'The event.' },
    example: { ids: { id: idFrom.event } },
  },
  'POST /v1/events/{id}/redeliver': {
    operationId: 'redeliverEvent',
    tag: 'Events',
    summary: 'Redeliver an event',
    description:
      'Sends the event again, as a new delivery, to every endpoint it went to whose last delivery of it has finished, failed or delivered (a receiver that lost it may ask again). `skipped` names each endpoint left out and why: `delivery_in_progress`, `endpoint_disabled`, `endpoint_deleted`.',
    access: 'merchant',
    success: { 200: 'The deliveries it started, and the endpoints it skipped.' },
    example: { ids: { id: idFrom.event } },
  },
  'POST /v1/webhook_endpoints': {
    operationId: 'createWebhookEndpoint',
    tag: 'Webhook endpoints',
    summary: 'Create a webhook endpoint',
    description:
      'Events of the listed types (or `*`) are delivered to the URL, signed with the endpoint’s secret, which this answer alone shows. The URL must be a public address (unless WEBHOOK_ALLOW_PRIVATE_DESTINATIONS).',
    access: 'merchant',
    success: { 201: 'The endpoint, with its signing secret.' },
    errors: ['webhook_endpoint_limit_reached'],
    example: { body: { url: 'https://example.com/webhooks', events: ['payment.succeeded', 'refund.succeeded'] } },
  },
  'GET /v1/webhook_endpoints': {
    operationId: 'listWebhookEndpoints',
    tag: 'Webhook endpoints',
    summary: 'List webhook endpoints',
    description: 'This merchant’s endpoints, newest first.',
    access: 'merchant',
    success: { 200: 'A page of endpoints.' },
    example: { query: { limit: 10 } },
  },
  'GET /v1/webhook_endpoints/{id}': {
    operationId: 'getWebhookEndpoint',
    tag: 'Webhook endpoints',
    summary: 'Retrieve a webhook endpoint',
    description: 'The endpoint, never its secret.',
    access: 'merchant',
    success: { 200: 'The endpoint.' },
    example: { ids: { id: idFrom.webhookEndpoint } },
  },
  'POST /v1/webhook_endpoints/{id}': {
    operationId: 'updateWebhookEndpoint',
    tag: 'Webhook endpoints',
    summary: 'Update a webhook endpoint',
    description:
      'Changes its URL or event types; `disabled: true` stops deliveries, `disabled: false` turns it back on and forgets its failures.',
    access: 'merchant',
    success: { 200: 'The endpoint, updated.' },
    example: { ids: { id: idFrom.webhookEndpoint }, body: { events: ['*'] } },
  },
  'DELETE /v1/webhook_endpoints/{id}': {
    operationId: 'deleteWebhookEndpoint',
    tag: 'Webhook endpoints',
    summary: 'Delete a webhook endpoint',
    description: 'No more deliveries go to it; pending ones are dropped.',
    access: 'merchant',
    success: { 200: 'The endpoint, deleted.' },
    example: { ids: { id: idFrom.webhookEndpoint } },
  },
  'GET /v1/webhook_endpoints/{id}/deliveries': {
    operationId: 'listWebhookDeliveries',
    tag: 'Webhook endpoints',
    summary: "An endpoint's deliveries",
    description: 'Deliveries to the endpoint, newest first, each with its attempts.',
    access: 'merchant',
    success: { 200: 'A page of deliveries.' },
    example: { ids: { id: idFrom.webhookEndpoint }, query: { status: 'failed' } },
  },
  'POST /v1/webhook_endpoints/{id}/secret/roll': {
    operationId: 'rollWebhookSecret',
    tag: 'Webhook endpoints',
    summary: 'Roll the signing secret',
    description:
      'Gives the endpoint a new signing secret, which this answer alone shows. The secret it replaces keeps signing every delivery beside the new one (two `v1` signatures in each header) until `previous_secret_expires_at`, `expires_in_seconds` from now (default a day, at most 7 days; 0: at once), so a receiver can switch without a gap.',
    access: 'merchant',
    success: { 200: 'The endpoint, with its new signing secret.' },
    example: { ids: { id: idFrom.webhookEndpoint }, body: { expires_in_seconds: 3600 } },
  },
  'POST /v1/webhook_endpoints/{id}/test': {
    operationId: 'sendTestWebhook',
    tag: 'Webhook endpoints',
    summary: 'Send a test event',
    description:
      'Sends the endpoint, and it alone, a signed `webhook_endpoint.test` event (its data: the endpoint), whatever types it subscribed to. The answer is the delivery, pending; its attempts show at `GET /v1/webhook_endpoints/{id}/deliveries`.',
    access: 'merchant',
    success: { 201: 'The delivery of the test event.' },
    errors: ['webhook_endpoint_unexpected_state'],
    example: { ids: { id: idFrom.webhookEndpoint } },
  },
  'POST /v1/api_keys': {
    operationId: 'createApiKey',
    tag: 'API keys',
    summary: 'Create an API key',
    description:
      'A new key of this merchant (`sk_test_…`), usable at once beside the others; its `secret` is in this answer only, and only its hash is stored. Takes no Idempotency-Key (a stored answer would keep the secret): a retry makes another key. Announced as `api_key.created`.',
    access: 'merchant',
    success: { 201: 'The key, with its secret (shown once).' },
    errors: ['api_key_limit_reached'],
    example: { body: { name: 'checkout server' } },
  },
  'GET /v1/api_keys': {
    operationId: 'listApiKeys',
    tag: 'API keys',
    summary: 'List API keys',
    description:
      'This merchant’s keys, newest first, revoked and expired ones included, each with its `status` and `last_used_at` (to within a minute); never a secret.',
    access: 'merchant',
    success: { 200: 'A page of keys.' },
    example: { query: { limit: 10 } },
  },
  'GET /v1/api_keys/{id}': {
    operationId: 'getApiKey',
    tag: 'API keys',
    summary: 'Retrieve an API key',
    description:
      'The key with its `status`, `expires_at` and `last_used_at`, never its secret. Another merchant’s key answers 404, as an unknown id does.',
    access: 'merchant',
    success: { 200: 'The key.' },
    example: { ids: { id: idFrom.apiKey } },
  },
  'POST /v1/api_keys/{id}/roll': {
    operationId: 'rollApiKey',
    tag: 'API keys',
    summary: 'Roll an API key',
    description:
      'Replaces an active key with a new one (same name), whose `secret` this answer alone shows. The old key keeps working for `expires_in_seconds` (0 to 604800; 86400 when absent; 0 stops it at once), then answers 401. Only a key without an expiry can be rolled. Announced as `api_key.created` (the new key) and `api_key.rolled` (the old one, with `expires_at` and `rolled_to`).',
    access: 'merchant',
    success: { 200: 'The new key, with its secret (shown once).' },
    errors: ['api_key_unexpected_state', 'api_key_limit_reached'],
    example: { ids: { id: idFrom.apiKey }, body: { expires_in_seconds: 3600 } },
  },
  'DELETE /v1/api_keys/{id}': {
    operationId: 'revokeApiKey',
    tag: 'API keys',
    summary: 'Revoke an API key',
    description:
      'The key stops working at once, the key of this very request included, but never the merchant’s last active key without an expiry (409: create or roll one first, so a merchant is never locked out). Revoking a revoked key answers it unchanged. Announced as `api_key.revoked`.',
    access: 'merchant',
    success: { 200: 'The key, revoked.' },
    errors: ['api_key_unexpected_state'],
    example: { ids: { id: idFrom.apiKey } },
    tryItOut:
      'Needs a key that is not your last active one without an expiry: create one first (POST /v1/api_keys), or roll one and revoke the old.',
  },
  'POST /v1/payment_records': {
    operationId: 'createPaymentRecord',
    tag: 'Payment records',
    summary: 'Record a payment made elsewhere',
    description:
      'Records a payment that arrived outside the platform, named by your reference number (unique per merchant) and credited to the account with that `external_reference`. 201 for a new record, 200 for a duplicate reference.',
    access: 'merchant',
    success: { 201: 'Recorded.', 200: 'A duplicate of an earlier record: nothing changed.' },
    errors: ['resource_missing', 'amount_too_large', 'currency_mismatch'],
    example: {
      body: {
        reference_number: 'RCPT-2026-0001',
        account_reference: 'LOAN-1001',
        amount: 1000,
        currency: 'USD',
        paid_at: examplePaidAt,
        channel: 'bank_transfer',
      },
    },
    tryItOut:
      'Needs an account of yours with `external_reference` `LOAN-1001` (POST /v1/accounts with `"external_reference": "LOAN-1001"`).',
  },
  'GET /v1/payment_records/{id}': {
    operationId: 'getPaymentRecord',
    tag: 'Payment records',
    summary: 'Retrieve a payment record',
    description: 'A recorded payment of this merchant.',
    access: 'merchant',
    success: { 200: 'The record.' },
    example: { ids: { id: idFrom.paymentRecord } },
  },
  'POST /v1/webhooks/{provider}': {
    operationId: 'receiveProviderWebhook',
    tag: 'Inbound webhooks',
    summary: 'Receive a provider webhook',
    description:
      'A notification from Stripe or PayPal, verified with the provider’s signature header (WEBHOOK_SECRETS_*), stored once by its event id and applied to its payment.',
    access: 'signed',
    success: { 200: 'Received (or a duplicate of one received before).' },
    errors: ['webhook_signature_invalid'],
    example: { params: { provider: 'stripe' } },
    tryItOut:
      'Not from this page: a provider signs its notifications with the webhook secret (WEBHOOK_SECRETS_*), which the UI cannot do. The provider simulator sends real ones under `npm start`.',
  },
  'POST /v1/webhooks/records/{channel}': {
    operationId: 'receiveRecordWebhook',
    tag: 'Inbound webhooks',
    summary: "Receive a partner's payment record",
    description:
      'A payment record from a partner channel (RECORD_WEBHOOK_CHANNELS), signed with its secret, for one of the merchants it may record for. 201 for a new record, 200 for a duplicate.',
    access: 'signed',
    success: { 201: 'Recorded.', 200: 'A duplicate of an earlier record: nothing changed.' },
    errors: ['webhook_signature_invalid', 'amount_too_large', 'currency_mismatch'],
    example: { params: { channel: 'partner_bank' } },
    tryItOut:
      "not from this page: a partner signs its records with the channel's secret (RECORD_WEBHOOK_CHANNELS), which the UI cannot do.",
  },
  'POST /v1/merchants': {
    operationId: 'createMerchant',
    tag: 'Admin',
    summary: 'Create a merchant',
    description:
      'A merchant and its first API key (`sk_test_…`, named `default`), shown only in this answer; only its hash is stored. The merchant manages its keys at /v1/api_keys.',
    access: 'admin',
    success: { 201: 'The merchant, with its API key.' },
    example: { body: { name: 'Acme' } },
  },
  'GET /v1/merchants': {
    operationId: 'listMerchants',
    tag: 'Admin',
    summary: 'List merchants',
    description: `Every merchant, without keys. ${paging}`,
    access: 'admin',
    success: { 200: 'A page of merchants.' },
    example: { query: { limit: 10 } },
  },
  'GET /v1/merchants/{id}': {
    operationId: 'getMerchant',
    tag: 'Admin',
    summary: 'Retrieve a merchant',
    description: 'A merchant, without its keys.',
    access: 'admin',
    success: { 200: 'The merchant.' },
    example: { ids: { id: idFrom.merchant } },
  },
  'GET /v1/ledger/integrity': {
    operationId: 'checkLedgerIntegrity',
    tag: 'Admin',
    summary: 'Check the ledger',
    description: 'Checks that every transaction balances and every stored balance equals the sum of its entries.',
    access: 'admin',
    success: { 200: 'The check’s result, with any discrepancies.' },
  },
  'GET /v1/admin/webhook_events': {
    operationId: 'listProviderWebhookEvents',
    tag: 'Admin',
    summary: 'List provider webhooks received',
    description: 'The provider webhooks in the inbox, newest first, by outcome.',
    access: 'admin',
    success: { 200: 'A page of provider webhooks.' },
    example: { query: { outcome: 'unmatched' } },
  },
  'GET /v1/admin/stats': {
    operationId: 'getOperatingFigures',
    tag: 'Admin',
    summary: 'Operating figures',
    description: 'Backlogs, import batch timings and other figures an operator watches.',
    access: 'admin',
    success: { 200: 'The figures.' },
  },
  'POST /v1/imports': {
    operationId: 'startImport',
    tag: 'Imports',
    summary: 'Start an import',
    description: 'Starts the import of staged payment records now, or joins the one running.',
    access: 'admin',
    success: { 202: 'The import run, running.' },
  },
  'GET /v1/imports': {
    operationId: 'listImports',
    tag: 'Imports',
    summary: 'List import runs',
    description: 'Import runs, newest first.',
    access: 'admin',
    success: { 200: 'A page of import runs.' },
    example: { query: { limit: 10 } },
  },
  'GET /v1/imports/{id}': {
    operationId: 'getImport',
    tag: 'Imports',
    summary: 'Retrieve an import run',
    description: 'One import run with its counters.',
    access: 'admin',
    success: { 200: 'The import run.' },
    example: { ids: { id: idFrom.importRun } },
  },
  'POST /v1/reconciliation/runs': {
    operationId: 'startReconciliationRun',
    tag: 'Reconciliation',
    summary: 'Reconcile a provider day',
    description:
      "Matches one provider's report for one currency and UTC day against the ledger, now; joins a run of that day in progress.",
    access: 'admin',
    success: { 202: 'The run, running.' },
    example: { body: { provider: 'stripe', currency: 'USD', date: '2026-01-15' } },
  },
  'GET /v1/reconciliation/runs': {
    operationId: 'listReconciliationRuns',
    tag: 'Reconciliation',
    summary: 'List reconciliation runs',
    description: 'Runs, newest first, filtered by provider, currency, day and status.',
    access: 'admin',
    success: { 200: 'A page of runs.' },
    example: { query: { provider: 'stripe', currency: 'USD' } },
  },
  'GET /v1/reconciliation/runs/{id}': {
    operationId: 'getReconciliationRun',
    tag: 'Reconciliation',
    summary: 'Retrieve a reconciliation run',
    description: 'A run with its counts and totals.',
    access: 'admin',
    success: { 200: 'The run.' },
    example: { ids: { id: idFrom.reconciliationRun } },
  },
  'GET /v1/reconciliation/runs/{id}/items': {
    operationId: 'listReconciliationItems',
    tag: 'Reconciliation',
    summary: "A run's items",
    description: 'What did not match, by kind and status.',
    access: 'admin',
    success: { 200: 'A page of items.' },
    example: { ids: { id: idFrom.reconciliationRun }, query: { status: 'open' } },
  },
  'GET /v1/reconciliation/items/{id}': {
    operationId: 'getReconciliationItem',
    tag: 'Reconciliation',
    summary: 'Retrieve a reconciliation item',
    description: 'One thing that did not match, with both sides.',
    access: 'admin',
    success: { 200: 'The item.' },
    example: { ids: { id: idFrom.reconciliationItem } },
    tryItOut: 'Needs an item exists only once a reconciliation run found something that did not match.',
  },
  'POST /v1/payouts': {
    operationId: 'createPayout',
    tag: 'Payouts',
    summary: 'Create a payout',
    description:
      "Pays out the merchant's available balance in a currency (or `amount` of it) to its bank. The amount is held at once, so no refund or transfer can spend it meanwhile; it is in transit once the provider accepts it, and `paid` or `failed` (returned to the available balance) when the bank answers. 201 once the amount is held, 202 while the workflow has not got there yet. Idempotency-Key is required.",
    access: 'merchant',
    success: { 201: 'The payout, its amount held.', 202: 'The payout, still being started.' },
    errors: ['amount_too_small', 'insufficient_funds'],
    example: { body: { currency: 'USD', amount: 1000, description: 'Weekly payout' } },
    tryItOut:
      "an available balance of at least 1000 USD: a payment's net proceeds become available when it settles, SETTLEMENT_DELAY_MS (2 days by default) after its capture. For a demo, `SETTLEMENT_DELAY_MS=1000 npm start` and two POST /v1/payments examples with new Idempotency-Keys.",
  },
  'GET /v1/payouts': {
    operationId: 'listPayouts',
    tag: 'Payouts',
    summary: 'List payouts',
    description: "The merchant's payouts, newest first, filtered by status and currency.",
    access: 'merchant',
    success: { 200: 'A page of payouts.' },
    example: { query: { limit: 10 } },
  },
  'GET /v1/payouts/{id}': {
    operationId: 'getPayout',
    tag: 'Payouts',
    summary: 'Retrieve a payout',
    description: 'One payout of the merchant, with its status and, when it failed, its failure code.',
    access: 'merchant',
    success: { 200: 'The payout.' },
    example: { ids: { id: idFrom.payout } },
  },
  'GET /v1/payout_settings': {
    operationId: 'getPayoutSettings',
    tag: 'Payouts',
    summary: "Retrieve the merchant's payout settings",
    description: 'The schedule (`daily`, `weekly`, `manual`) and minimum payout amount in force.',
    access: 'merchant',
    success: { 200: 'The payout settings.' },
  },
  'POST /v1/payout_settings': {
    operationId: 'updatePayoutSettings',
    tag: 'Payouts',
    summary: "Update the merchant's payout settings",
    description:
      "Sets the schedule and the minimum payout amount; null goes back to the platform's default. The minimum is never below the platform's.",
    access: 'merchant',
    success: { 200: 'The payout settings now in force.' },
    errors: ['amount_too_small'],
    // At most the POST /v1/payouts example's amount, so both examples succeed one after the other.
    example: { body: { schedule: 'weekly', minimum_amount: 1000 } },
  },
  'GET /v1/admin/payments': {
    operationId: 'listPaymentsRequiringAttention',
    tag: 'Admin',
    summary: 'List payments requiring attention',
    description:
      'Payments of every merchant whose provider outcome stayed unknown after the last lookup (status `requires_attention`), longest waiting first, each with its merchant and what is in doubt (`attention`: step, provider, refund, lookups, since). Only `status=requires_attention` is accepted.',
    access: 'admin',
    success: { 200: 'A page of payments requiring attention.' },
    example: { query: { status: 'requires_attention', limit: 50 } },
  },
  'POST /v1/admin/payments/{id}/lookup': {
    operationId: 'lookUpPaymentAgain',
    tag: 'Admin',
    summary: 'Look a payment up again',
    description:
      'Asks the payment workflow to look the step in doubt up at the provider now (once the provider answers again); the payment then goes on from the answer, or stays `requires_attention`.',
    access: 'admin',
    success: { 202: 'The lookup was asked for; the payment as it is now.' },
    errors: ['payment_unexpected_state'],
    example: { ids: { id: idFrom.payment } },
    tryItOut:
      'Needs a payment in `requires_attention` (GET /v1/admin/payments lists them): a provider outcome still unknown after the last lookup.',
  },
  'POST /v1/reconciliation/items/{id}/resolve': {
    operationId: 'resolveReconciliationItem',
    tag: 'Reconciliation',
    summary: 'Resolve a reconciliation item',
    description: 'Marks it resolved with a note of what was done; the same note again is a no-op.',
    access: 'admin',
    success: { 200: 'The item, resolved.' },
    errors: ['item_already_resolved'],
    example: {
      ids: { id: idFrom.reconciliationItem },
      body: { note: 'Refunded by hand at the provider.' },
    },
    tryItOut: 'Needs an item exists only once a reconciliation run found something that did not match.',
  },
  'GET /health': {
    operationId: 'checkLiveness',
    tag: 'Health',
    summary: 'Liveness',
    description: 'The process is up.',
    access: 'open',
    success: { 200: 'Alive.' },
  },
  'GET /ready': {
    operationId: 'checkReadiness',
    tag: 'Health',
    summary: 'Readiness',
    description:
      'PostgreSQL and Temporal answer; also the staging backlog and the last import run, which never make it 503.',
    access: 'open',
    success: { 200: 'Ready.', 503: 'Not ready: a check names what failed.' },
  },
};
