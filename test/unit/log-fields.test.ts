import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { temporalLogFields, parseTemporalLogLevel } from '../../src/observability/temporal-logger.ts';
import { correlationOf } from '../../src/observability/activity-logging.ts';
import { logFormatFromEnv } from '../../src/observability/log-format.ts';
import { createLogger } from '../../src/observability/logger.ts';

describe('temporalLogFields', () => {
  it("names a payment workflow's payment, renames the SDK's fields and drops the task token", () => {
    expect(
      temporalLogFields({
        sdkComponent: 'activity',
        taskToken: 'CiQ…',
        workflowId: 'pay_123',
        workflowRunId: 'run-1',
        activityType: 'authorizeCard',
        attempt: 1,
      }),
    ).toEqual({
      component: 'activity',
      workflowId: 'pay_123',
      runId: 'run-1',
      activity: 'authorizeCard',
      attempt: 1,
      paymentId: 'pay_123',
    });
  });

  it('keeps an interceptor’s payment id and leaves other workflows without one', () => {
    expect(temporalLogFields({ workflowId: 'pay_1', paymentId: 'pay_2' }).paymentId).toBe('pay_2');
    expect(temporalLogFields({ workflowId: 'deposit:mer_1:k', runId: 'r' })).toEqual({
      workflowId: 'deposit:mer_1:k',
      runId: 'r',
    });
  });

  it('passes the error as err, and a business outcome as its code alone (no stack)', () => {
    const error = new Error('boom');
    expect(temporalLogFields({ error }).err).toBe(error);
    const declined = ApplicationFailure.create({
      type: 'card_declined',
      message: 'Your card was declined.',
      nonRetryable: true,
      category: ApplicationFailureCategory.BENIGN,
    });
    expect(temporalLogFields({ error: declined })).toEqual({ code: 'card_declined' });
  });
});

describe('parseTemporalLogLevel', () => {
  it('accepts the SDK levels in any case and refuses others', () => {
    expect(parseTemporalLogLevel(undefined)).toBe('WARN');
    expect(parseTemporalLogLevel('debug')).toBe('DEBUG');
    expect(() => parseTemporalLogLevel('verbose')).toThrow(/TEMPORAL_LOG_LEVEL/);
  });
});

describe('correlationOf', () => {
  it('reads ids from the shapes activity inputs use, and nothing else', () => {
    expect(correlationOf([{ paymentId: 'pay_1', token: 'tok_visa', amount: 1n }])).toEqual({ paymentId: 'pay_1' });
    expect(correlationOf([{ view: { id: 'pay_2', merchantId: 'mer_1', token: 'x' } }])).toEqual({
      paymentId: 'pay_2',
      merchantId: 'mer_1',
    });
    expect(correlationOf([{ view: { id: 'tr_1' } }])).toEqual({});
    expect(correlationOf(['pay_1'])).toEqual({});
    expect(correlationOf([])).toEqual({});
  });
});

describe('logFormatFromEnv', () => {
  it('defaults, accepts json and pretty, refuses anything else', () => {
    expect(logFormatFromEnv(undefined, 'json')).toBe('json');
    expect(logFormatFromEnv('', 'pretty')).toBe('pretty');
    expect(logFormatFromEnv('pretty', 'json')).toBe('pretty');
    expect(() => logFormatFromEnv('text', 'json')).toThrow(/LOG_FORMAT/);
  });
});

describe('createLogger', () => {
  const capture = () => {
    const lines: string[] = [];
    return { lines, destination: { write: (line: string) => void lines.push(line) } };
  };

  it('labels each JSON line with its process and redacts secrets by name', () => {
    const { lines, destination } = capture();
    const logger = createLogger('worker', { format: 'json', destination });
    logger.info({ token: 'tok_visa', input: { apiKey: 'sk_test_1', paymentId: 'pay_1' } }, 'hello');
    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({
      proc: 'worker',
      msg: 'hello',
      token: '[redacted]',
      input: { apiKey: '[redacted]', paymentId: 'pay_1' },
    });
  });

  it('writes one readable line per event in pretty format, with the process', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger('api', { format: 'pretty', destination });
    logger.info({ paymentId: 'pay_1' }, 'payment started');
    await vi.waitFor(() => expect(lines.join('')).toContain('payment started'));
    const text = lines.join('');
    expect(text).toMatch(/INFO.*\[api\] payment started/);
    expect(text).toContain('pay_1');
    expect(text).not.toContain('{"level"');
  });
});
