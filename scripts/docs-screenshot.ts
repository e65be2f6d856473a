// Screenshot of the API reference (`/docs`) with "Try it out" of POST /v1/payments answered:
// `npx tsx scripts/docs-screenshot.ts` against a running `npm start`.
//
// Drives a headless Chromium (Debian's `chromium` package, or CHROMIUM) through the DevTools
// protocol over a pipe (--remote-debugging-pipe: JSON messages ended by a NUL byte on file
// descriptors 3 and 4), so it needs no npm package. As a user would, it opens /docs, clicks
// Authorize, types a merchant's API key (a merchant it creates with ADMIN_API_KEY), opens
// POST /v1/payments, clicks "Try it out" and "Execute" with the example as the reference fills
// it in, waits for the live answer, checks it is a 201 with a `succeeded` payment, and saves
// the part of the page from the operation's title to its answer. Clicks are mouse events at the
// elements' centres and typing is inserted text (Input.dispatchMouseEvent, Input.insertText).
//
// Settings (environment): API_URL (default http://127.0.0.1:3000), ADMIN_API_KEY (required:
// the key `npm start` prints), SCREENSHOT_FILE (default docs/img/api-docs-try-it-out.png),
// CHROMIUM (default chromium), SCREENSHOT_TIMEOUT_MS (default 30000) bounds every wait.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

const apiUrl = process.env.API_URL ?? 'http://127.0.0.1:3000';
const adminApiKey = process.env.ADMIN_API_KEY;
const screenshotFile = path.resolve(process.env.SCREENSHOT_FILE ?? 'docs/img/api-docs-try-it-out.png');
const chromium = process.env.CHROMIUM ?? 'chromium';
const timeoutMs = Number(process.env.SCREENSHOT_TIMEOUT_MS ?? 30_000);
const pollIntervalMs = 100;
const viewport = { width: 1280, height: 1000 };
/** Swagger UI names an operation's block `operations-<tag>-<operationId>`. */
const operationSelector = '#operations-Payments-createPayment';

type Json = Record<string, unknown>;

/** One DevTools protocol connection over Chromium's pipe. */
class DevTools {
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, { resolve: (value: Json) => void; reject: (error: Error) => void }>();

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\0')) >= 0) {
        const message = JSON.parse(this.buffer.slice(0, end)) as { id?: number; result?: Json; error?: Json };
        this.buffer = this.buffer.slice(end + 1);
        const waiting = message.id === undefined ? undefined : this.pending.get(message.id);
        if (!waiting) continue;
        this.pending.delete(message.id!);
        if (message.error) waiting.reject(new Error(JSON.stringify(message.error)));
        else waiting.resolve(message.result ?? {});
      }
    });
  }

  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    const id = this.nextId++;
    const message = JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.input.write(`${message}\0`);
    });
  }
}

/** A page of the browser: evaluate, wait for, click and type into. */
function pageOf(devtools: DevTools, sessionId: string) {
  const send = (method: string, params: Json = {}) => devtools.send(method, params, sessionId);
  const evaluate = async <T>(expression: string): Promise<T> => {
    const answer = (await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })) as {
      result: { value: T };
      exceptionDetails?: Json;
    };
    if (answer.exceptionDetails) throw new Error(`in the page: ${JSON.stringify(answer.exceptionDetails)}`);
    return answer.result.value;
  };
  /** Waits until `expression` is truthy in the page, and returns its value. */
  const waitFor = async <T>(what: string, expression: string): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await evaluate<T>(expression);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
    }
  };
  /** A mouse click at the centre of the element `selector` names, scrolled into view first. */
  const click = async (selector: string): Promise<void> => {
    const centre = await waitFor<{ x: number; y: number }>(
      selector,
      `(() => {
        const element = document.querySelector(${JSON.stringify(selector)});
        if (!element) return null;
        element.scrollIntoView({ block: 'center' });
        const box = element.getBoundingClientRect();
        return box.width > 0 ? { x: box.x + box.width / 2, y: box.y + box.height / 2 } : null;
      })()`,
    );
    for (const type of ['mousePressed', 'mouseReleased']) {
      await send('Input.dispatchMouseEvent', { type, ...centre, button: 'left', clickCount: 1 });
    }
  };
  const type = async (selector: string, text: string): Promise<void> => {
    await click(selector);
    await send('Input.insertText', { text });
  };
  return { send, evaluate, waitFor, click, type };
}

async function createMerchant(): Promise<string> {
  const response = await fetch(`${apiUrl}/v1/merchants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminApiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `Docs screenshot ${new Date().toISOString()}` }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status !== 201)
    throw new Error(`POST /v1/merchants answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { api_key: string }).api_key;
}

type Page = ReturnType<typeof pageOf>;

/** Authorizes with the merchant's key, as a user does in the Authorize dialog. */
async function authorize(page: Page, apiKey: string): Promise<void> {
  await page.click('.auth-wrapper .btn.authorize');
  // The dialog has one form per scheme, each titled with the scheme's name: marked to be found.
  const form = '#merchant-api-key-form';
  await page.waitFor(
    'the authorization dialog',
    `(() => {
      const forms = [...document.querySelectorAll('.dialog-ux .auth-container')];
      const merchant = forms.find((item) => item.querySelector('h4')?.textContent.includes('merchantApiKey'));
      if (merchant) merchant.id = 'merchant-api-key-form';
      return merchant?.querySelector('input') != null;
    })()`,
  );
  await page.type(`${form} input`, apiKey);
  await page.click(`${form} .auth-btn-wrapper .btn.authorize`);
  await page.waitFor(
    'the key accepted',
    `document.querySelector('${form} button[aria-label="Remove authorization"]') !== null`,
  );
  await page.click(`${form} .btn-done`);
}

/** Opens /docs, authorizes, runs "Try it out" of POST /v1/payments; the answer's status and body. */
async function tryItOut(page: Page, apiKey: string): Promise<{ status: string; body: string }> {
  await page.send('Emulation.setDeviceMetricsOverride', { ...viewport, deviceScaleFactor: 1, mobile: false });
  await page.send('Page.navigate', { url: `${apiUrl}/docs` });
  await page.waitFor('the operation', `document.querySelector('${operationSelector}') !== null`);
  await authorize(page, apiKey);
  // The operation, "Try it out" with its example as the reference fills it in, then Execute.
  await page.click(`${operationSelector} .opblock-summary-control`);
  await page.click(`${operationSelector} .try-out__btn`);
  await page.click(`${operationSelector} .btn.execute`);
  const status = await page.waitFor<string>(
    'the answer',
    `document.querySelector('${operationSelector} .live-responses-table tr.response .response-col_status')?.textContent.trim()`,
  );
  const body = await page.evaluate<string>(
    `document.querySelector('${operationSelector} .live-responses-table tr.response .response-col_description pre')?.textContent ?? ''`,
  );
  return { status, body };
}

/**
 * Saves the page from the operation's title to the end of its live answer. The key in the curl
 * line is shown as its prefix only: the image is committed, a key (even a local one) is not.
 */
async function saveScreenshot(page: Page, apiKey: string): Promise<void> {
  await page
    .evaluate(
      `(() => {
    for (const node of document.querySelectorAll('${operationSelector} .curl-command *, ${operationSelector} .curl')) {
      for (const text of node.childNodes) {
        if (text.nodeType === Node.TEXT_NODE && text.textContent.includes(${JSON.stringify(apiKey)})) {
          text.textContent = text.textContent.replaceAll(${JSON.stringify(apiKey)}, 'sk_test_…');
        }
      }
    }
    return document.querySelector('${operationSelector}').textContent.includes(${JSON.stringify(apiKey)});
  })()`,
    )
    .then((shown) => {
      if (shown) throw new Error('the API key is still on the page');
    });
  const clip = await page.evaluate<{ x: number; y: number; width: number; height: number }>(`(() => {
    const operation = document.querySelector('${operationSelector}');
    const answer = operation.querySelector('.live-responses-table');
    const box = operation.getBoundingClientRect();
    const top = box.top + window.scrollY;
    const bottom = answer.getBoundingClientRect().bottom + window.scrollY;
    return { x: box.x, y: top, width: box.width, height: bottom - top + 16 };
  })()`);
  const shot = (await page.send('Page.captureScreenshot', {
    format: 'png',
    clip: { ...clip, scale: 1 },
    captureBeyondViewport: true,
  })) as { data: string };
  await mkdir(path.dirname(screenshotFile), { recursive: true });
  await writeFile(screenshotFile, Buffer.from(shot.data, 'base64'));
}

async function drive(page: Page, apiKey: string): Promise<void> {
  const { status, body } = await tryItOut(page, apiKey);
  const payment = JSON.parse(body) as { status?: string; amount?: number; currency?: string };
  if (status !== '201' || payment.status !== 'succeeded') throw new Error(`Try it out answered ${status}: ${body}`);
  await saveScreenshot(page, apiKey);
  process.stdout.write(
    `${screenshotFile}: POST /v1/payments answered ${status}, payment ${payment.status}, ${payment.amount} ${payment.currency}\n`,
  );
}

async function main(): Promise<void> {
  if (!adminApiKey) throw new Error('ADMIN_API_KEY is required: the admin key npm start prints');
  const apiKey = await createMerchant();
  const profile = await mkdtemp(path.join(os.tmpdir(), 'docs-screenshot-'));
  const browser = spawn(
    chromium,
    [
      '--headless=new',
      // Root in a container has no user namespace for Chromium's sandbox.
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      '--remote-debugging-pipe',
      `--user-data-dir=${profile}`,
      `--window-size=${viewport.width},${viewport.height}`,
    ],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
  );
  try {
    const devtools = new DevTools(browser.stdio[3] as Writable, browser.stdio[4] as Readable);
    const { targetId } = (await devtools.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await devtools.send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string;
    };
    const page = pageOf(devtools, sessionId);
    try {
      await drive(page, apiKey);
    } catch (error) {
      // What the page showed when a step failed, beside the screenshot's path.
      const shot = (await page.send('Page.captureScreenshot', { format: 'png' })) as { data: string };
      await writeFile(`${screenshotFile}.failed.png`, Buffer.from(shot.data, 'base64'));
      await writeFile(
        `${screenshotFile}.failed.html`,
        await page.evaluate<string>('document.documentElement.outerHTML'),
      );
      throw error;
    }
  } finally {
    const exited = once(browser, 'exit');
    browser.kill();
    await exited;
    await rm(profile, { recursive: true, force: true, maxRetries: 5 });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
