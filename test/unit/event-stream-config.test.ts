import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { eventStreamSettings, eventSubject } from '../../src/nats/event-stream.ts';

const names = [
  'EVENT_STREAM_NAME',
  'EVENT_STREAM_SUBJECT_PREFIX',
  'EVENT_STREAM_DUPLICATE_WINDOW_MS',
  'EVENT_STREAM_MAX_AGE_MS',
  'EVENT_PUBLISH_BATCH_SIZE',
  'EVENT_PUBLISH_TIMEOUT_MS',
  'EVENT_PUBLISH_INITIAL_RETRY_MS',
  'EVENT_PUBLISH_MAX_RETRY_MS',
] as const;
const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
afterEach(() => {
  for (const name of names) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('event stream settings', () => {
  it('defaults to PAYMENTS on payments.>, a one-hour duplicate window within a 7-day retention', () => {
    for (const name of names) delete process.env[name];
    const config = loadConfig();
    expect(eventSubject(config, 'payment.succeeded')).toBe('payments.payment.succeeded');
    expect(eventStreamSettings(config)).toMatchObject({
      name: 'PAYMENTS',
      subjects: ['payments.>'],
      duplicate_window: 3_600_000_000_000,
      max_age: 7 * 24 * 3_600_000_000_000,
      max_bytes: 1024 * 1024 * 1024,
    });
    expect(config).toMatchObject({ eventPublishBatchSize: 100, eventPublishTimeoutMs: 5_000 });
  });

  it('refuses names JetStream would read as wildcards or refuse, at start', () => {
    process.env.EVENT_STREAM_SUBJECT_PREFIX = 'payments.*';
    expect(() => loadConfig()).toThrow('EVENT_STREAM_SUBJECT_PREFIX must be dot-separated tokens without wildcards');
    process.env.EVENT_STREAM_SUBJECT_PREFIX = 'payments.>';
    expect(() => loadConfig()).toThrow('EVENT_STREAM_SUBJECT_PREFIX');
    process.env.EVENT_STREAM_SUBJECT_PREFIX = 'acme.payments';
    process.env.EVENT_STREAM_NAME = 'PAY.MENTS';
    expect(() => loadConfig()).toThrow('EVENT_STREAM_NAME must be letters, digits, - or _');
    process.env.EVENT_STREAM_NAME = 'ACME_PAYMENTS';
    expect(eventStreamSettings(loadConfig())).toMatchObject({ name: 'ACME_PAYMENTS', subjects: ['acme.payments.>'] });
  });

  it('refuses a duplicate window longer than the retention, and zero batches or timeouts', () => {
    process.env.EVENT_STREAM_MAX_AGE_MS = '60000';
    process.env.EVENT_STREAM_DUPLICATE_WINDOW_MS = '60001';
    expect(() => loadConfig()).toThrow('EVENT_STREAM_DUPLICATE_WINDOW_MS must be positive and at most');
    process.env.EVENT_STREAM_DUPLICATE_WINDOW_MS = '60000';
    expect(loadConfig().eventStreamDuplicateWindowMs).toBe(60_000);
    process.env.EVENT_PUBLISH_BATCH_SIZE = '0';
    expect(() => loadConfig()).toThrow('EVENT_PUBLISH_BATCH_SIZE must be positive');
    process.env.EVENT_PUBLISH_BATCH_SIZE = '10';
    process.env.EVENT_PUBLISH_TIMEOUT_MS = '0';
    expect(() => loadConfig()).toThrow('EVENT_PUBLISH_TIMEOUT_MS must be positive');
    process.env.EVENT_PUBLISH_TIMEOUT_MS = '1000';
    process.env.EVENT_PUBLISH_INITIAL_RETRY_MS = '5000';
    process.env.EVENT_PUBLISH_MAX_RETRY_MS = '1000';
    expect(() => loadConfig()).toThrow('EVENT_PUBLISH_INITIAL_RETRY_MS must be positive and at most');
  });
});
