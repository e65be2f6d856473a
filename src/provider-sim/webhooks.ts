import { simProviders, type PersonalityOptions, type SimProvider } from './options.ts';

// Webhook delivery, the way processors do it: after the request has answered, signed,
// retried with exponential backoff until a 2xx or the attempt limit, and, on demand,
// duplicated or delivered out of order so receivers prove they cope with both.

export interface WebhookEvent {
  id: string;
  type: string;
  /** The exact bytes sent and signed. */
  body: string;
}

/** Headers that sign one delivery attempt (each attempt is signed afresh, with its own time). */
export type WebhookSigner = (secret: string, rawBody: string, nowMs: number) => Record<string, string>;

export interface DispatcherSettings {
  maxAttempts: number;
  baseDelayMs: number;
  timeoutMs: number;
  reorderWindowMs: number;
  maxPending: number;
  duplicateRate: number;
  outOfOrder: boolean;
  now: () => number;
}

export interface WebhookStats {
  events: number;
  /** Attempts answered 2xx. */
  delivered: number;
  /** Attempts that failed (non-2xx, timeout, connection error). */
  failed_attempts: number;
  /** Events abandoned after the last attempt failed. */
  gave_up: number;
  /** Events not queued because `maxPendingWebhooks` were already waiting. */
  dropped: number;
  /** Extra copies sent because of the duplicate rate. */
  duplicates: number;
  /** Deliveries waiting or in flight. */
  pending: number;
}

export interface DeliveryRecord {
  event_id: string;
  type: string;
  attempt: number;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  at: string;
}

interface Endpoint {
  url: string | undefined;
  secret: string | undefined;
  duplicateRate: number;
  outOfOrder: boolean;
}

interface Job {
  provider: SimProvider;
  url: string;
  secret: string;
  event: WebhookEvent;
  attempt: number;
  generation: number;
}

// Recent attempts kept per personality for GET /admin/webhooks.
const maxRecentDeliveries = 100;

const emptyStats = (): WebhookStats => ({
  events: 0,
  delivered: 0,
  failed_attempts: 0,
  gave_up: 0,
  dropped: 0,
  duplicates: 0,
  pending: 0,
});

export class WebhookDispatcher {
  private endpoints = new Map<SimProvider, Endpoint>();
  private stats = new Map<SimProvider, WebhookStats>();
  private recent = new Map<SimProvider, DeliveryRecord[]>();
  private batches = new Map<SimProvider, Job[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private aborter = new AbortController();
  // Bumped by reset(): deliveries queued before it are dropped, not retried.
  private generation = 0;
  private closed = false;

  constructor(
    private readonly settings: DispatcherSettings,
    private readonly initial: Record<SimProvider, PersonalityOptions>,
    private readonly signers: Record<SimProvider, WebhookSigner>,
    private readonly random: () => number = Math.random,
  ) {
    this.reset();
  }

  configure(
    provider: SimProvider,
    change: { url?: string | null; secret?: string; duplicateRate?: number; outOfOrder?: boolean },
  ): void {
    const endpoint = this.endpoint(provider);
    const next: Endpoint = {
      url: change.url === null ? undefined : (change.url ?? endpoint.url),
      secret: change.secret ?? endpoint.secret,
      duplicateRate: change.duplicateRate ?? endpoint.duplicateRate,
      outOfOrder: change.outOfOrder ?? endpoint.outOfOrder,
    };
    assertSigned(provider, next);
    this.endpoints.set(provider, next);
  }

  publish(provider: SimProvider, event: WebhookEvent): void {
    const stats = this.statsOf(provider);
    stats.events++;
    const { url, secret, duplicateRate, outOfOrder } = this.endpoint(provider);
    if (this.closed || url === undefined || secret === undefined) return;
    const copies = duplicateRate > 0 && this.random() < duplicateRate ? 2 : 1;
    if (copies === 2) stats.duplicates++;
    for (let copy = 0; copy < copies; copy++) {
      if (stats.pending >= this.settings.maxPending) {
        stats.dropped++;
        continue;
      }
      stats.pending++;
      const job: Job = { provider, url, secret, event, attempt: 0, generation: this.generation };
      if (outOfOrder) this.collect(job);
      else this.schedule(job, 0);
    }
  }

  view(): Record<
    SimProvider,
    { url: string | null; duplicate_rate: number; out_of_order: boolean; stats: WebhookStats; recent: DeliveryRecord[] }
  > {
    const view = (provider: SimProvider) => {
      const endpoint = this.endpoint(provider);
      return {
        url: endpoint.url ?? null,
        duplicate_rate: endpoint.duplicateRate,
        out_of_order: endpoint.outOfOrder,
        stats: { ...this.statsOf(provider) },
        recent: [...(this.recent.get(provider) ?? [])],
      };
    };
    return { stripe: view('stripe'), paypal: view('paypal') };
  }

  statsView(): Record<SimProvider, WebhookStats> {
    return { stripe: { ...this.statsOf('stripe') }, paypal: { ...this.statsOf('paypal') } };
  }

  /** Back to the startup settings; queued deliveries are dropped. */
  reset(): void {
    this.cancelAll();
    for (const provider of simProviders) {
      const next: Endpoint = {
        url: this.initial[provider].webhookUrl,
        secret: this.initial[provider].webhookSecret,
        duplicateRate: this.settings.duplicateRate,
        outOfOrder: this.settings.outOfOrder,
      };
      assertSigned(provider, next);
      this.endpoints.set(provider, next);
      this.stats.set(provider, emptyStats());
      this.recent.set(provider, []);
      this.batches.set(provider, []);
    }
  }

  close(): void {
    this.closed = true;
    this.cancelAll();
  }

  private cancelAll(): void {
    this.generation++;
    this.aborter.abort();
    this.aborter = new AbortController();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  // Out of order: events of one window go out together, newest first.
  private collect(job: Job): void {
    const batch = this.batches.get(job.provider) ?? [];
    batch.push(job);
    this.batches.set(job.provider, batch);
    if (batch.length > 1) return;
    this.later(() => {
      const jobs = this.batches.get(job.provider) ?? [];
      this.batches.set(job.provider, []);
      for (const queued of jobs.reverse()) void this.attempt(queued);
    }, this.settings.reorderWindowMs);
  }

  private schedule(job: Job, delayMs: number): void {
    this.later(() => void this.attempt(job), delayMs);
  }

  private later(run: () => void, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    this.timers.add(timer);
  }

  private async attempt(job: Job): Promise<void> {
    if (this.closed || job.generation !== this.generation) return;
    job.attempt++;
    const signal = AbortSignal.any([AbortSignal.timeout(this.settings.timeoutMs), this.aborter.signal]);
    let status: number | null = null;
    try {
      const response = await fetch(job.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': `provider-sim/${job.provider}`,
          ...this.signers[job.provider](job.secret, job.event.body, this.settings.now()),
        },
        body: job.event.body,
        signal,
      });
      status = response.status;
      // Drain the answer so the connection can be reused.
      await response.arrayBuffer();
    } catch {
      // No answer: a failed attempt like any non-2xx.
    }
    if (job.generation !== this.generation) return;
    this.record(job, status);
    const stats = this.statsOf(job.provider);
    if (status !== null && status >= 200 && status < 300) {
      stats.delivered++;
      stats.pending--;
      return;
    }
    stats.failed_attempts++;
    if (job.attempt >= this.settings.maxAttempts || this.closed) {
      stats.gave_up++;
      stats.pending--;
      return;
    }
    this.schedule(job, this.settings.baseDelayMs * 2 ** (job.attempt - 1));
  }

  private record(job: Job, status: number | null): void {
    const recent = this.recent.get(job.provider) ?? [];
    recent.push({
      event_id: job.event.id,
      type: job.event.type,
      attempt: job.attempt,
      status,
      at: new Date(this.settings.now()).toISOString(),
    });
    if (recent.length > maxRecentDeliveries) recent.splice(0, recent.length - maxRecentDeliveries);
    this.recent.set(job.provider, recent);
  }

  private endpoint(provider: SimProvider): Endpoint {
    const endpoint = this.endpoints.get(provider);
    if (!endpoint) throw new Error(`no webhook endpoint for ${provider}`);
    return endpoint;
  }

  private statsOf(provider: SimProvider): WebhookStats {
    const stats = this.stats.get(provider);
    if (!stats) throw new Error(`no webhook stats for ${provider}`);
    return stats;
  }
}

function assertSigned(provider: SimProvider, endpoint: Endpoint): void {
  if (endpoint.url !== undefined && !endpoint.secret) {
    throw new Error(`${provider} webhooks need a secret to be signed with (webhookSecret).`);
  }
  if (endpoint.url !== undefined && !/^https?:\/\//.test(endpoint.url)) {
    throw new Error(`${provider} webhook URL must be http(s): ${endpoint.url}`);
  }
}
