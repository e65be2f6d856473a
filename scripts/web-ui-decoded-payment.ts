// Proof that an operator reads a payment's payloads in the Temporal Web UI only through our
// codec endpoint: `npx tsx scripts/web-ui-decoded-payment.ts` against a running `npm start`.
//
// Takes a payment through the API (a merchant of its own, a card payment whose description and
// metadata carry a marker nobody else knows), then:
//  1. reads the workflow's history straight from Temporal's HTTP API, as anything but the UI
//     would: the input must be `binary/encrypted` and the marker must not appear in it;
//  2. opens the payment's workflow page in a headless Chromium (scripts/chromium-devtools.ts),
//     where the UI sends the payloads to the codec endpoint `npm start` gave it
//     (--ui-codec-endpoint): the marker must appear in the page's Input, decoded, and the page
//     must name no `binary/encrypted` payload; the page is saved as a PNG.
//
// Settings (environment): SCREENSHOT_FILE (default docs/img/temporal-ui-decoded-payment.png);
// and those of scripts/chromium-devtools.ts. Addresses and the admin key come from
// .data/dev-stack.json, which `npm start` writes.

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { readDevStack, type DevStack } from '../src/dev-stack-file.ts';
import { savePng, withChromium, type Page } from './chromium-devtools.ts';

const screenshotFile = path.resolve(process.env.SCREENSHOT_FILE ?? 'docs/img/temporal-ui-decoded-payment.png');
const viewport = { width: 1500, height: 1400 };
const encryptedEncoding = 'binary/encrypted';

async function call<T>(url: string, key: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** A payment whose description and metadata hold `marker`; its id is its workflow's id. */
async function takePayment(stack: DevStack, marker: string): Promise<string> {
  const merchant = await call<{ api_key: string }>(`${stack.apiUrl}/v1/merchants`, stack.adminApiKey, {
    name: 'Web UI codec check',
  });
  const payment = await call<{ id: string; status: string }>(`${stack.apiUrl}/v1/payments`, merchant.api_key, {
    amount: 1000,
    currency: 'USD',
    source: { type: 'card', token: 'tok_visa' },
    customer: `cus_${marker}`,
    description: `order ${marker}`,
    metadata: { order_id: marker },
  });
  return payment.id;
}

/** The history as Temporal's HTTP API (not the UI) serves it: still encrypted. */
async function assertEncryptedAtTemporal(stack: DevStack, workflowId: string, marker: string): Promise<void> {
  const url = `${stack.webUiUrl}/api/v1/namespaces/${stack.namespace}/workflows/${workflowId}/history`;
  const history = await (await fetch(url)).text();
  if (!history.includes(Buffer.from(encryptedEncoding).toString('base64'))) {
    throw new Error(`the history at ${url} holds no ${encryptedEncoding} payload`);
  }
  if (history.includes(marker) || history.includes(Buffer.from(marker).toString('base64'))) {
    throw new Error(`the history at ${url} shows the marker in plaintext`);
  }
}

async function drive(page: Page, stack: DevStack, workflowId: string, marker: string): Promise<void> {
  await page.send('Page.navigate', {
    url: `${stack.webUiUrl}/namespaces/${stack.namespace}/workflows/${workflowId}`,
  });
  await page.waitFor('the decoded input', `document.body?.innerText.includes(${JSON.stringify(marker)}) === true`);
  const shown = await page.evaluate<string>('document.body.innerText');
  if (shown.includes(encryptedEncoding)) throw new Error(`the page still shows a ${encryptedEncoding} payload`);
  await savePng(page, screenshotFile);
}

async function main(): Promise<void> {
  const stack = await readDevStack();
  if (!stack?.webUiUrl) throw new Error('start the stack first (npm start): .data/dev-stack.json names no Web UI');
  const marker = `webui_${randomUUID().slice(0, 8)}`;
  const workflowId = await takePayment(stack, marker);
  await assertEncryptedAtTemporal(stack, workflowId, marker);
  await withChromium(viewport, screenshotFile, (page) => drive(page, stack, workflowId, marker));
  process.stdout.write(
    `${screenshotFile}: payment ${workflowId}: encrypted in Temporal's history, decoded in the Web UI through the codec endpoint (marker ${marker})\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
