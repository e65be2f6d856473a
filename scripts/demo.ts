import { pathToFileURL } from 'node:url';
import { readDevStack } from '../src/dev-stack-file.ts';
import { DemoFailure, expectEqual, JsonClient, waitFor } from './demo/http.ts';
import { DemoOutput, money, workflowLink, type LedgerTransaction, type Print } from './demo/output.ts';
import { startWebhookReceiver, type WebhookReceiver } from './demo/webhook-receiver.ts';

// `npm run demo`: a scripted walk through the system against a running stack (`npm start` in
// another terminal), for a person to watch. It creates a merchant with a webhook receiver of its
// own, funds a wallet, takes a card payment through every state (authorization, partial capture,
// refunds, a dispute raised at the provider, a decline, a provider outage survived by falling back
// to the other provider), pays from the wallet and moves money by transfer, printing at each step
// what happened, the ledger, the webhooks that arrived (signatures checked) and the workflow's
// page in the Temporal Web UI. Every wait has a deadline and any unexpected answer stops it: a
// run that ends is a run where everything did what this says.

/** How long a webhook may take to arrive after the change it announces (relay, delivery workflow, HTTP). */
const webhookTimeoutMs = 20_000;
/** How long a payment or refund answered 202 may take to reach the expected state. */
const settleTimeoutMs = 30_000;
/** How long the provider simulator's dispute webhook may take to reach the payment. */
const disputeTimeoutMs = 30_000;
/** How long the stack may take to answer /ready when the demo starts. */
const readyTimeoutMs = 15_000;
/** Long enough to cover the fallback payment, short enough to be over soon if the demo is stopped. */
const outageSeconds = 60;
const currency = 'USD';

export interface DemoOptions {
  apiUrl: string;
  adminApiKey: string;
  simulatorUrl: string;
  /** The Temporal Web UI; without it, workflows are named by id only. */
  webUiUrl: string | undefined;
  namespace?: string;
  print: Print;
  /** Told the merchant's id as soon as it exists (the test stack relays only its suites' merchants' events). */
  onMerchant?: (merchantId: string) => void;
}

export interface DemoResult {
  merchantId: string;
  /** Distinct events the receiver accepted, each with a valid signature. */
  webhooksVerified: number;
}

interface Payment {
  id: string;
  status: string;
  amount: number;
  amount_capturable: number;
  amount_captured: number;
  amount_refunded: number;
  refunded: boolean;
  fee: number | null;
  net_amount: number | null;
  source: { type: 'card'; brand: string | null; last4: string | null; provider: string | null } | { type: 'wallet' };
  failure_code: string | null;
  failure_message: string | null;
}
interface Refund {
  id: string;
  status: string;
  amount: number;
}
interface Account {
  id: string;
  type: string;
  balance: number;
  available: number;
  held: number;
}
/** A deposit or a transfer: a workflow that ends with one ledger transaction. */
interface Movement {
  id: string;
  status: string;
  amount: number;
  transaction_id: string | null;
}
interface AccountEntry {
  transaction_id: string;
  kind: string;
  account_id: string;
  amount: number;
  currency: string;
  balance_after: number;
}
interface SimCharge {
  id: string;
  provider: string;
  status: string;
  amount_captured: number;
}

const stableStatuses = new Set(['requires_review', 'requires_capture', 'succeeded', 'failed', 'canceled']);

/** One run's shared handles: the merchant's API client, the receiver and the output. */
class Walkthrough {
  private printedEvents = 0;
  /** Every payment the demo made, in order. */
  readonly paymentIds: string[] = [];

  constructor(
    readonly options: DemoOptions,
    readonly out: DemoOutput,
    readonly receiver: WebhookReceiver,
    readonly api: JsonClient,
    readonly simulator: JsonClient,
    readonly merchantId: string,
  ) {}

  link(workflowId: string): string {
    return workflowLink(this.options.webUiUrl, this.options.namespace ?? 'default', workflowId);
  }

  /** Waits for the webhooks this step announces, then prints every one that arrived since the last step. */
  async webhooks(types: readonly string[], objectId?: string): Promise<void> {
    await this.receiver.waitForTypes(types, objectId, webhookTimeoutMs);
    this.out.webhooks(this.receiver.events.slice(this.printedEvents));
    this.printedEvents = this.receiver.events.length;
  }

  async ledgerOf(paymentId: string): Promise<LedgerTransaction[]> {
    return (await this.api.get<{ data: LedgerTransaction[] }>(`/v1/payments/${paymentId}/ledger`)).data;
  }

  async account(id: string): Promise<Account> {
    return this.api.get<Account>(`/v1/accounts/${id}`);
  }

  async balance(label: string, id: string): Promise<Account> {
    const account = await this.account(id);
    this.out.fact(
      label,
      `${id}  ${money(account.balance, currency)} (available ${money(account.available, currency)})`,
    );
    return account;
  }

  /** Follows a deposit or transfer answered 202 until it succeeded; its failure stops the demo. */
  async settled<T extends { status: string }>(what: string, path: string): Promise<T> {
    return waitFor(
      `the ${what} to succeed`,
      async () => {
        const current = await this.api.get<T>(path);
        if (current.status === 'failed') throw new DemoFailure(`the ${what} failed: ${JSON.stringify(current)}`);
        return current.status === 'succeeded' ? current : undefined;
      },
      { timeoutMs: settleTimeoutMs },
    );
  }

  /** A movement's ledger transaction as the merchant sees it: its entries on these accounts. */
  async transactionOn(accountIds: readonly string[], movement: Movement): Promise<LedgerTransaction> {
    const entries: AccountEntry[] = [];
    for (const accountId of accountIds) {
      const { data } = await this.api.get<{ data: AccountEntry[] }>(`/v1/accounts/${accountId}/entries?limit=10`);
      entries.push(...data.filter((entry) => entry.transaction_id === movement.transaction_id));
    }
    const [first] = entries;
    if (!first) throw new DemoFailure(`no ledger entries of ${movement.id} (transaction ${movement.transaction_id})`);
    return { transaction_id: first.transaction_id, kind: first.kind, entries };
  }

  async payment(id: string): Promise<Payment> {
    return this.api.get<Payment>(`/v1/payments/${id}`);
  }

  /** Creates a payment; a 202 (still processing at the answer deadline) is followed until it is stable. */
  async createPayment(key: string, body: object): Promise<Payment> {
    const created = await this.api.post<Payment>('/v1/payments', body, {
      headers: { 'idempotency-key': key },
      expect: [201, 202],
    });
    this.paymentIds.push(created.body.id);
    if (stableStatuses.has(created.body.status)) return created.body;
    return this.paymentIn(created.body.id, [...stableStatuses]);
  }

  async paymentIn(id: string, statuses: readonly string[]): Promise<Payment> {
    return waitFor(
      `payment ${id} to be ${statuses.join(' or ')}`,
      async () => {
        const payment = await this.payment(id);
        return statuses.includes(payment.status) ? payment : undefined;
      },
      { timeoutMs: settleTimeoutMs },
    );
  }

  async refund(paymentId: string, key: string, amount: number): Promise<Refund> {
    const answer = await this.api.post<Refund>(
      `/v1/payments/${paymentId}/refunds`,
      { amount, reason: 'requested_by_customer' },
      { headers: { 'idempotency-key': key }, expect: [201, 202] },
    );
    const refund =
      answer.body.status === 'succeeded'
        ? answer.body
        : await waitFor(
            `refund ${answer.body.id} to succeed`,
            async () => {
              const current = await this.api.get<Refund>(`/v1/refunds/${answer.body.id}`);
              return current.status === 'succeeded' ? current : undefined;
            },
            { timeoutMs: settleTimeoutMs },
          );
    expectEqual(`refund ${refund.id} amount`, refund.amount, amount);
    return refund;
  }

  /** The simulator's charge for one of our payments (its admin route, as a provider's dashboard would show it). */
  async simCharge(paymentId: string): Promise<SimCharge> {
    const { data } = await this.simulator.get<{ data: SimCharge[] }>(
      `/admin/charges?payment_id=${encodeURIComponent(paymentId)}`,
    );
    const charge = data.find((candidate) => candidate.status !== 'failed') ?? data[0];
    if (!charge) throw new DemoFailure(`the simulator has no charge for ${paymentId}`);
    return charge;
  }
}

function describePayment(out: DemoOutput, payment: Payment): void {
  out.fact('payment', `${payment.id}  status ${payment.status}`);
  const amounts = [
    `amount ${money(payment.amount, currency)}`,
    `capturable ${money(payment.amount_capturable, currency)}`,
    `captured ${money(payment.amount_captured, currency)}`,
    `refunded ${money(payment.amount_refunded, currency)}`,
  ];
  out.fact('amounts', amounts.join(', '));
  if (payment.fee !== null && payment.net_amount !== null) {
    out.fact(
      'fee and net',
      `fee ${money(payment.fee, currency)}, net to merchant ${money(payment.net_amount, currency)}`,
    );
  }
  // A declined card never became a charge: no brand, last 4 or provider to show.
  if (payment.source.type === 'card' && payment.source.provider !== null) {
    const { brand, last4, provider } = payment.source;
    out.fact('card', `${brand ?? 'card'} ending ${last4 ?? '?'} at provider ${provider}`);
  }
  if (payment.failure_code !== null) out.fact('failure', `${payment.failure_code}: ${payment.failure_message ?? ''}`);
}

async function checkStack(options: DemoOptions, out: DemoOutput, api: JsonClient, simulator: JsonClient) {
  out.step('the running stack', 'The demo talks to the API and the provider simulator that npm start runs.');
  await waitFor(
    `${options.apiUrl}/ready to answer 200 (is npm start running?)`,
    async () =>
      (await api.send('GET', '/ready', { expect: [200, 503] }).catch(() => undefined))?.status === 200
        ? true
        : undefined,
    { timeoutMs: readyTimeoutMs, intervalMs: 500 },
  );
  await simulator.get('/health');
  out.fact('API', `${options.apiUrl}  ready`);
  out.fact('provider simulator', `${options.simulatorUrl}  up (stripe and paypal personalities)`);
  out.fact('Temporal Web UI', options.webUiUrl ?? '(not known: an external Temporal server)');
}

async function createMerchant(options: DemoOptions, out: DemoOutput, api: JsonClient) {
  out.step(
    'a merchant and its webhook receiver',
    'An operator creates a merchant with the admin key; the merchant registers an endpoint for every event.',
  );
  const admin = api.withHeaders({ authorization: `Bearer ${options.adminApiKey}` });
  const merchant = await admin.post<{ id: string; api_key: string }>(
    '/v1/merchants',
    { name: 'Demo coffee roasters' },
    { expect: [201] },
  );
  options.onMerchant?.(merchant.body.id);
  out.fact('merchant', `${merchant.body.id}  "Demo coffee roasters"`);
  out.fact('API key', `${merchant.body.api_key.slice(0, 12)}…  (shown once; only its hash is stored)`);
  return { merchantId: merchant.body.id, apiKey: merchant.body.api_key };
}

async function registerReceiver(out: DemoOutput, merchantApi: JsonClient, receiver: WebhookReceiver) {
  const endpoint = await merchantApi.post<{ id: string; secret: string }>(
    '/v1/webhook_endpoints',
    { url: receiver.url, events: ['*'] },
    { expect: [201] },
  );
  receiver.useSecret(endpoint.body.secret);
  out.fact('webhook receiver', `${receiver.url}  (node:http on a free port)`);
  out.fact('webhook endpoint', `${endpoint.body.id}  events *, secret ${endpoint.body.secret.slice(0, 10)}…`);
  out.fact('signatures', 'verifyWebhookSignature (src/webhooks/signature.ts) on each delivery');
}

async function fundWallet(walk: Walkthrough): Promise<string> {
  const { out, api } = walk;
  out.step(
    'fund a wallet',
    'A customer account (a wallet) receives a deposit of 50.00 USD: a deposit workflow posts it to the ledger.',
  );
  const wallet = (
    await api.post<Account>(
      '/v1/accounts',
      { type: 'customer', currency, reference: 'wallet of cus_ada' },
      { expect: [201] },
    )
  ).body;
  out.nameAccount(wallet.id, "cus_ada's wallet");
  out.fact('wallet account', `${wallet.id}  customer, ${currency}`);
  const key = 'demo-deposit-1';
  const deposit = await api.post<Movement>(
    `/v1/accounts/${wallet.id}/deposits`,
    { amount: 5_000, reference: 'bank transfer 0001' },
    { headers: { 'idempotency-key': key }, expect: [201, 202] },
  );
  const done = await walk.settled<Movement>('deposit', `/v1/deposits/${deposit.body.id}`);
  out.fact('deposit', `${done.id}  ${money(done.amount, currency)}  status ${done.status}`);
  out.fact('workflow', walk.link(`deposit:${walk.merchantId}:${key}`));
  out.ledger([await walk.transactionOn([wallet.id], done)]);
  const funded = await walk.balance('wallet', wallet.id);
  expectEqual('wallet balance after the deposit', funded.balance, 5_000);
  await walk.webhooks(['deposit.succeeded'], deposit.body.id);
  return wallet.id;
}

async function authorizeCard(walk: Walkthrough): Promise<Payment> {
  const { out } = walk;
  out.step(
    'a card payment, authorized now and captured later',
    'capture_method "manual": the provider holds 100.00 USD on the card; nothing is captured yet.',
  );
  const payment = await walk.createPayment('demo-order-1001', {
    amount: 10_000,
    currency,
    capture_method: 'manual',
    source: { type: 'card', token: 'tok_visa' },
    customer: 'cus_ada',
    description: 'Order 1001: two bags of coffee',
  });
  expectEqual('status of the authorized payment', payment.status, 'requires_capture');
  expectEqual('amount_capturable', payment.amount_capturable, 10_000);
  describePayment(out, payment);
  out.fact('workflow', walk.link(payment.id));
  walk.out.ledger(await walk.ledgerOf(payment.id));
  await walk.webhooks(['payment.requires_capture'], payment.id);
  return payment;
}

async function captureInPart(walk: Walkthrough, paymentId: string): Promise<void> {
  const { out } = walk;
  out.step(
    'a partial capture',
    'One bag shipped: the merchant captures 60.00 of the 100.00; the rest of the hold is released.',
  );
  await walk.api.post<Payment>(`/v1/payments/${paymentId}/capture`, { amount: 6_000 }, { expect: [200, 202] });
  const payment = await walk.paymentIn(paymentId, ['succeeded']);
  expectEqual('amount_captured', payment.amount_captured, 6_000);
  describePayment(out, payment);
  out.fact('workflow', walk.link(payment.id));
  out.ledger(await walk.ledgerOf(payment.id));
  await walk.webhooks(['payment.succeeded'], payment.id);
}

async function refundTwice(walk: Walkthrough, paymentId: string): Promise<void> {
  const { out } = walk;
  out.step(
    'refunds',
    'The customer returns part of the order: two refunds, 15.00 then 10.00, each a Workflow Update of the payment.',
  );
  const first = await walk.refund(paymentId, 'demo-refund-1001-a', 1_500);
  out.fact('refund', `${first.id}  ${money(first.amount, currency)}  status ${first.status}`);
  const second = await walk.refund(paymentId, 'demo-refund-1001-b', 1_000);
  out.fact('refund', `${second.id}  ${money(second.amount, currency)}  status ${second.status}`);
  const payment = await walk.payment(paymentId);
  expectEqual('amount_refunded', payment.amount_refunded, 2_500);
  expectEqual('refunded (in full)', payment.refunded, false);
  describePayment(out, payment);
  out.fact('workflow', walk.link(payment.id));
  out.ledger(await walk.ledgerOf(payment.id));
  await walk.webhooks(['refund.succeeded'], first.id);
  await walk.webhooks(['refund.succeeded'], second.id);
}

async function disputeAtProvider(walk: Walkthrough, paymentId: string): Promise<void> {
  const { out } = walk;
  out.step(
    'a dispute',
    'The cardholder disputes 20.00 with their bank: the provider (simulator) sends a signed webhook, and the payment moves the amount to the disputes account.',
  );
  const charge = await walk.simCharge(paymentId);
  await walk.simulator.post(
    `/admin/disputes`,
    { charge_id: charge.id, amount: 2_000, reason: 'fraudulent' },
    { expect: [201] },
  );
  out.fact('provider charge', `${charge.id} at ${charge.provider}: dispute of ${money(2_000, currency)} opened`);
  const timeline = await waitFor(
    'the dispute to reach the payment (provider webhook → inbox → webhook workflow → payment workflow)',
    async () => {
      const { data } = await walk.api.get<{ data: { type: string; data: Record<string, unknown> }[] }>(
        `/v1/payments/${paymentId}/events`,
      );
      return data.some((event) => event.type === 'payment.dispute_created') ? data : undefined;
    },
    { timeoutMs: disputeTimeoutMs },
  );
  const dispute = timeline.find((event) => event.type === 'payment.dispute_created');
  out.fact('timeline', timeline.map((event) => event.type).join(' → '));
  out.fact('dispute', `${String(dispute?.data.dispute_id)}  ${money(Number(dispute?.data.amount), currency)}`);
  expectEqual('disputed amount', dispute?.data.amount, 2_000);
  out.fact('workflow', walk.link(paymentId));
  out.ledger((await walk.ledgerOf(paymentId)).filter((transaction) => transaction.kind === 'dispute'));
  await walk.webhooks(['payment.dispute_created'], paymentId);
}

async function decline(walk: Walkthrough): Promise<void> {
  const { out } = walk;
  out.step(
    'a decline',
    'The test token tok_chargeDeclined is refused by the card issuer: the payment exists, and is failed.',
  );
  const payment = await walk.createPayment('demo-order-1002', {
    amount: 4_200,
    currency,
    source: { type: 'card', token: 'tok_chargeDeclined' },
    customer: 'cus_bob',
  });
  expectEqual('status of the declined payment', payment.status, 'failed');
  expectEqual('failure_code', payment.failure_code, 'card_declined');
  describePayment(out, payment);
  out.fact('workflow', walk.link(payment.id));
  out.ledger(await walk.ledgerOf(payment.id));
  await walk.webhooks(['payment.failed'], payment.id);
}

async function outageWithFallback(walk: Walkthrough): Promise<void> {
  const { out, simulator } = walk;
  out.step(
    'a provider outage',
    `The stripe simulator answers 503 to everything for ${outageSeconds} s: USD payments go to stripe first, so this one falls back to paypal.`,
  );
  await simulator.post('/admin/faults', { provider: 'stripe', outage_seconds: outageSeconds }, { expect: [200] });
  out.fact('fault', `stripe: outage for ${outageSeconds} s`);
  let payment: Payment;
  try {
    payment = await walk.createPayment('demo-order-1003', {
      amount: 3_000,
      currency,
      source: { type: 'card', token: 'tok_visa' },
      customer: 'cus_carol',
    });
  } finally {
    // The outage ends with the demo's need for it, whatever happened.
    await simulator.send('DELETE', '/admin/faults?provider=stripe', { expect: [200] });
  }
  out.fact('fault', 'stripe: outage over');
  expectEqual('status of the payment during the outage', payment.status, 'succeeded');
  expectEqual(
    'provider of the payment during the outage',
    payment.source.type === 'card' ? payment.source.provider : null,
    'paypal',
  );
  describePayment(out, payment);
  const charge = await walk.simCharge(payment.id);
  out.fact(
    'fallback provider',
    `paypal took the charge: ${charge.id}, captured ${money(charge.amount_captured, currency)}`,
  );
  out.fact('workflow', walk.link(payment.id));
  out.ledger(await walk.ledgerOf(payment.id));
  await walk.webhooks(['payment.succeeded'], payment.id);
}

async function payFromWallet(walk: Walkthrough, walletId: string): Promise<void> {
  const { out } = walk;
  out.step(
    'a wallet payment',
    'The customer pays 20.00 from the funded wallet: a ledger hold, then a capture, no card provider involved.',
  );
  const payment = await walk.createPayment('demo-order-1004', {
    amount: 2_000,
    currency,
    source: { type: 'wallet', account_id: walletId },
    customer: 'cus_ada',
  });
  expectEqual('status of the wallet payment', payment.status, 'succeeded');
  describePayment(out, payment);
  out.fact('workflow', walk.link(payment.id));
  out.ledger(await walk.ledgerOf(payment.id));
  const wallet = await walk.balance('wallet', walletId);
  expectEqual('wallet balance after paying', wallet.balance, 3_000);
  await walk.webhooks(['payment.succeeded'], payment.id);
}

async function transfer(walk: Walkthrough, walletId: string): Promise<void> {
  const { out, api } = walk;
  out.step(
    'a transfer',
    "The customer sends 10.00 from the wallet to a friend's wallet: a transfer workflow holds, then moves, the money.",
  );
  const friend = (
    await api.post<Account>(
      '/v1/accounts',
      { type: 'customer', currency, reference: 'wallet of cus_dan' },
      { expect: [201] },
    )
  ).body;
  out.nameAccount(friend.id, "cus_dan's wallet");
  out.fact('second wallet', `${friend.id}  customer, ${currency}`);
  const key = 'demo-transfer-1';
  const answer = await api.post<Movement>(
    '/v1/transfers',
    { from_account_id: walletId, to_account_id: friend.id, amount: 1_000, currency, description: 'lunch' },
    { headers: { 'idempotency-key': key }, expect: [201, 202] },
  );
  const done = await walk.settled<Movement>('transfer', `/v1/transfers/${answer.body.id}`);
  out.fact('transfer', `${done.id}  ${money(done.amount, currency)}  status ${done.status}`);
  out.fact('workflow', walk.link(`transfer:${walk.merchantId}:${key}`));
  out.ledger([await walk.transactionOn([walletId, friend.id], done)]);
  const from = await walk.balance('from', walletId);
  const to = await walk.balance('to', friend.id);
  expectEqual('wallet balance after the transfer', from.balance, 2_000);
  expectEqual('friend balance after the transfer', to.balance, 1_000);
  await walk.webhooks(['transfer.succeeded'], done.id);
}

/** A merchant's balance account (made on first use by the ledger, so absent until then). */
const merchantAccountId = (kind: 'pending' | 'available', merchantId: string) =>
  `acct_${kind}_${merchantId}_${currency.toLowerCase()}`;

async function summary(walk: Walkthrough): Promise<void> {
  const { out, api, merchantId } = walk;
  out.step(
    'where the money is',
    "The merchant's own balances: what the card and wallet payments brought in net of fees, less the refunds and the dispute. It stays pending until settlement (SETTLEMENT_DELAY_MS, 2 days by default), then becomes available for payouts.",
  );
  const pending = await walk.balance('merchant pending', merchantAccountId('pending', merchantId));
  // The books agree with themselves: the balance is the sum of the entries the payments' ledgers showed.
  let entriesSum = 0;
  for (const paymentId of walk.paymentIds) {
    for (const transaction of await walk.ledgerOf(paymentId)) {
      for (const entry of transaction.entries) if (entry.account_id === pending.id) entriesSum += entry.amount;
    }
  }
  expectEqual('merchant pending balance against its ledger entries', pending.balance, entriesSum);
  out.fact(
    'ledger check',
    `the ${walk.paymentIds.length} payments' entries on it add up to ${money(entriesSum, currency)}`,
  );
  const available = merchantAccountId('available', merchantId);
  const answer = await api.send<Account>('GET', `/v1/accounts/${available}`, { expect: [200, 404] });
  out.fact(
    'merchant available',
    answer.status === 200 ? `${available}  ${money(answer.body.balance, currency)}` : 'nothing settled yet',
  );
  out.fact('webhooks verified', `${walk.receiver.events.length} events, every signature valid, none rejected`);
}

/** Runs the walkthrough; resolves when every step did what it says, throws DemoFailure otherwise. */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const startedAtMs = Date.now();
  const out = new DemoOutput(options.print, 12);
  const api = new JsonClient(options.apiUrl);
  const simulator = new JsonClient(options.simulatorUrl);
  await checkStack(options, out, api, simulator);
  const receiver = await startWebhookReceiver();
  try {
    const { merchantId, apiKey } = await createMerchant(options, out, api);
    const merchantApi = api.withHeaders({ authorization: `Bearer ${apiKey}` });
    await registerReceiver(out, merchantApi, receiver);
    const walk = new Walkthrough(options, out, receiver, merchantApi, simulator, merchantId);
    out.nameAccount(merchantAccountId('pending', merchantId), 'the merchant, pending settlement');
    const walletId = await fundWallet(walk);
    const card = await authorizeCard(walk);
    await captureInPart(walk, card.id);
    await refundTwice(walk, card.id);
    await disputeAtProvider(walk, card.id);
    await decline(walk);
    await outageWithFallback(walk);
    await payFromWallet(walk, walletId);
    await transfer(walk, walletId);
    await summary(walk);
    out.line('');
    out.line(`Demo complete in ${((Date.now() - startedAtMs) / 1000).toFixed(1)} s: every step did what it said.`);
    return { merchantId, webhooksVerified: receiver.events.length };
  } finally {
    await receiver.close();
  }
}

/** The running stack's settings: .data/dev-stack.json (written by npm start), each overridable by environment. */
async function settingsFromEnvironment(env: NodeJS.ProcessEnv): Promise<Omit<DemoOptions, 'print'>> {
  const written = await readDevStack();
  const apiUrl = env.DEMO_API_URL ?? written?.apiUrl;
  const adminApiKey = env.ADMIN_API_KEY ?? written?.adminApiKey;
  const simulatorUrl = env.PROVIDER_SIM_URL ?? written?.simulatorUrl;
  if (!apiUrl || !adminApiKey || !simulatorUrl) {
    throw new DemoFailure(
      'no running stack found: start it with `npm start` in another terminal (it writes .data/dev-stack.json), ' +
        'or set DEMO_API_URL, ADMIN_API_KEY and PROVIDER_SIM_URL',
    );
  }
  return {
    apiUrl,
    adminApiKey,
    simulatorUrl,
    webUiUrl: env.TEMPORAL_UI_URL ?? written?.webUiUrl ?? undefined,
    namespace: env.TEMPORAL_NAMESPACE ?? written?.namespace ?? 'default',
  };
}

async function main(): Promise<void> {
  const print: Print = (line) => process.stdout.write(`${line}\n`);
  try {
    await runDemo({ ...(await settingsFromEnvironment(process.env)), print });
  } catch (error) {
    const message =
      error instanceof DemoFailure
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
    process.stderr.write(`\ndemo failed: ${message}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
