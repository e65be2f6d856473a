// Settings of the simulated card processor. Every limit is explicit: the simulator keeps all
// state in memory and forgets the oldest entries first when a limit is reached.

export type SimProvider = 'stripe' | 'paypal';
export const simProviders: readonly SimProvider[] = ['stripe', 'paypal'];

export interface PersonalityOptions {
  /** Where this personality posts its webhooks; none are sent without it. */
  webhookUrl?: string;
  /** HMAC secret the webhooks are signed with. */
  webhookSecret?: string;
}

export interface ProviderSimOptions {
  stripe?: PersonalityOptions;
  paypal?: PersonalityOptions;
  /** How long tok_timeout keeps a request open before answering 504. */
  hangMs?: number;
  /** Deliveries per webhook event, the first included, before giving up. */
  webhookMaxAttempts?: number;
  /** Delay before the first redelivery; doubles with each further attempt. */
  webhookBaseDelayMs?: number;
  /** Deadline for one delivery. */
  webhookTimeoutMs?: number;
  /** Probability (0..1) that an event is delivered twice. */
  webhookDuplicateRate?: number;
  /** Deliver the events of each window newest first. */
  webhookOutOfOrder?: boolean;
  /** How long events are collected before an out-of-order batch goes out. */
  webhookReorderWindowMs?: number;
  /** Deliveries waiting or in flight per personality; further events are dropped (and counted). */
  maxPendingWebhooks?: number;
  /** Charges kept per personality; the oldest are forgotten (and answer 404) beyond this. */
  maxCharges?: number;
  /** Idempotency keys remembered per personality; the oldest are forgotten beyond this. */
  maxIdempotencyKeys?: number;
  /** Larger charges are refused with amount_too_large, as Stripe refuses above 999,999.99. */
  maxChargeAmountMinor?: number;
  /** From a payout's acceptance to the bank's answer (paid or returned), announced by webhook. */
  payoutArrivalMs?: number;
  /** Payouts kept per personality; the oldest are forgotten (and answer 404) beyond this. */
  maxPayouts?: number;
  /** Clock for timestamps and settlement dates (tests may pin it). */
  now?: () => number;
}

export type ResolvedSimOptions = Required<Omit<ProviderSimOptions, 'stripe' | 'paypal'>> &
  Record<SimProvider, PersonalityOptions>;

export const simDefaults = {
  hangMs: 30_000,
  webhookMaxAttempts: 6,
  webhookBaseDelayMs: 1_000,
  webhookTimeoutMs: 5_000,
  webhookDuplicateRate: 0,
  webhookOutOfOrder: false,
  webhookReorderWindowMs: 200,
  maxPendingWebhooks: 1_000,
  maxCharges: 10_000,
  maxIdempotencyKeys: 10_000,
  maxChargeAmountMinor: 99_999_999,
  // A real bank takes a day or two; the simulator answers within seconds so the loop can be watched.
  payoutArrivalMs: 2_000,
  maxPayouts: 10_000,
} as const;

export function resolveSimOptions(options: ProviderSimOptions = {}): ResolvedSimOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  return {
    ...simDefaults,
    now: Date.now,
    ...defined,
    stripe: { ...options.stripe },
    paypal: { ...options.paypal },
  };
}

/** Options for `npm run provider-sim`, from PROVIDER_SIM_* variables. */
export function simOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ProviderSimOptions {
  const text = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const milliseconds = (name: string) => {
    const value = text(name);
    if (value !== undefined && !/^\d+$/.test(value)) {
      throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
    return value === undefined ? undefined : Number(value);
  };
  return {
    stripe: {
      webhookUrl: text('PROVIDER_SIM_STRIPE_WEBHOOK_URL'),
      webhookSecret: text('PROVIDER_SIM_STRIPE_WEBHOOK_SECRET'),
    },
    paypal: {
      webhookUrl: text('PROVIDER_SIM_PAYPAL_WEBHOOK_URL'),
      webhookSecret: text('PROVIDER_SIM_PAYPAL_WEBHOOK_SECRET'),
    },
    hangMs: milliseconds('PROVIDER_SIM_HANG_MS'),
    payoutArrivalMs: milliseconds('PROVIDER_SIM_PAYOUT_ARRIVAL_MS'),
  };
}
