import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.ts';
import { runDemo } from '../../scripts/demo.ts';

// `npm run demo` against the real stack: the API listening on a port as npm start's does, the
// suite's provider simulator sending its signed webhooks to that API as dev.ts wires them, and
// the demo's own receiver checking the signatures of ours. It must run to its end.

let stack: Stack;
let apiUrl: string;
const webUiUrl = 'http://127.0.0.1:8233';

beforeAll(async () => {
  stack = await startStack('demo');
  await stack.app.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
  for (const [provider, secret] of [
    ['stripe', stack.config.webhookSecretsStripe[0]],
    ['paypal', stack.config.webhookSecretsPaypal[0]],
  ] as const) {
    const configured = await stack.sim.inject({
      method: 'POST',
      url: '/admin/webhooks',
      payload: { provider, url: `${apiUrl}/v1/webhooks/${provider}`, secret },
    });
    expect(configured.statusCode).toBe(200);
  }
});

afterAll(async () => {
  await stack?.close();
});

describe('npm run demo', () => {
  it('walks through every step against the running stack and ends cleanly', async () => {
    const lines: string[] = [];
    const result = await runDemo({
      apiUrl,
      adminApiKey: stack.adminApiKey,
      simulatorUrl: stack.simUrl,
      webUiUrl,
      print: (line) => lines.push(line),
      // The suite's relay hands over only its own merchants' events, as every suite's does.
      onMerchant: (merchantId) => (stack.merchantIds as string[]).push(merchantId),
    });
    const output = lines.join('\n');

    expect(result.merchantId).toMatch(/^mer_/);
    expect(lines.at(-1)).toMatch(/^Demo complete in \d+\.\d s: every step did what it said\.$/);
    expect(output).toContain('status requires_capture');
    expect(output).toMatch(
      /status succeeded\n\s+amounts\s+amount 100\.00 USD, capturable 0\.00 USD, captured 60\.00 USD/,
    );
    expect(output).toContain('refunded 25.00 USD');
    expect(output).toMatch(/re_\S+\s+15\.00 USD\s+status succeeded/);
    expect(output).toMatch(/re_\S+\s+10\.00 USD\s+status succeeded/);
    expect(output).toContain('payment.dispute_created');
    expect(output).toMatch(/dispute\s+\S+\s+20\.00 USD/);
    expect(output).toContain('status failed');
    expect(output).toContain('card_declined');
    expect(output).toContain('at provider paypal');
    expect(output).toMatch(/fallback provider\s+paypal took the charge/);
    expect(output).toMatch(/transfer\s+tr_\S+\s+10\.00 USD\s+status succeeded/);
    for (const kind of ['deposit', 'payment_capture', 'refund', 'dispute', 'transfer']) {
      expect(output).toMatch(new RegExp(`ledger\\s+${kind} \\(txn_`));
    }
    expect(output).toMatch(/ledger check\s+the 4 payments' entries on it add up to \d+\.\d{2} USD/);
    expect(output).toContain(`${webUiUrl}/namespaces/default/workflows/pay_`);
    expect(output).toContain(
      `${webUiUrl}/namespaces/default/workflows/transfer%3A${result.merchantId}%3Ademo-transfer-1`,
    );
    // deposit, requires_capture, succeeded, 2 refunds, dispute, failed, fallback succeeded, wallet succeeded, transfer.
    expect(result.webhooksVerified).toBeGreaterThanOrEqual(10);
    expect(output).toContain(`${result.webhooksVerified} events, every signature valid, none rejected`);
  }, 90_000);
});
