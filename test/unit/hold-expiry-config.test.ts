import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { forwardRecoveryWindowMs, walletHoldExpiryMs } from '../../src/domain/hold-expiry.ts';

const names = ['TRANSFER_HOLD_EXPIRY_MS', 'TRANSFER_CAPTURE_TIMEOUT_MS'] as const;
const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
afterEach(() => {
  for (const name of names) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('hold expiry settings', () => {
  it('refuses a transfer hold that could expire while its capture is still retried', () => {
    process.env.TRANSFER_CAPTURE_TIMEOUT_MS = '60000';
    process.env.TRANSFER_HOLD_EXPIRY_MS = '60000';
    expect(() => loadConfig()).toThrow('TRANSFER_HOLD_EXPIRY_MS must be longer than TRANSFER_CAPTURE_TIMEOUT_MS');
    process.env.TRANSFER_HOLD_EXPIRY_MS = '60001';
    expect(loadConfig()).toMatchObject({ transferHoldExpiryMs: 60_001, transferCaptureTimeoutMs: 60_000 });
  });

  it('defaults to a 1 hour transfer hold and a 5 minute capture', () => {
    for (const name of names) delete process.env[name];
    expect(loadConfig()).toMatchObject({ transferHoldExpiryMs: 3_600_000, transferCaptureTimeoutMs: 300_000 });
  });

  it('keeps a wallet hold past the authorization expiry by the forward-recovery window', () => {
    expect(forwardRecoveryWindowMs).toBe(7 * 24 * 60 * 60 * 1000);
    expect(walletHoldExpiryMs(1_500)).toBe(1_500 + forwardRecoveryWindowMs);
  });
});
