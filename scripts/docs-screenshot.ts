// Screenshot of the API reference (`/docs`) with "Try it out" of POST /v1/payments answered:
// `npx tsx scripts/docs-screenshot.ts` against a running `npm start`.
//
// Drives a headless Chromium through its DevTools pipe (scripts/chromium-devtools.ts), so it
// needs no npm package. As a user would, it opens /docs, clicks
// Authorize, types a merchant's API key (a merchant it creates with ADMIN_API_KEY), opens
// POST /v1/payments, clicks "Try it out" and "Execute" with the example as the reference fills
// it in, waits for the live answer, checks it is a 201 with a `succeeded` payment, and saves
// the part of the page from the operation's title to its answer.
//
// Settings (environment): API_URL (default http://127.0.0.1:3000), ADMIN_API_KEY (required:
// the key `npm start` prints), SCREENSHOT_FILE (default docs/img/api-docs-try-it-out.png); and
// those of scripts/chromium-devtools.ts.

import path from 'node:path';
import { savePng, withChromium, type Clip, type Page } from './chromium-devtools.ts';

const apiUrl = process.env.API_URL ?? 'http://127.0.0.1:3000';
const adminApiKey = process.env.ADMIN_API_KEY;
const screenshotFile = path.resolve(process.env.SCREENSHOT_FILE ?? 'docs/img/api-docs-try-it-out.png');
const requestTimeoutMs = 30_000;
const viewport = { width: 1280, height: 1000 };
/** Swagger UI names an operation's block `operations-<tag>-<operationId>`. */
const operationSelector = '#operations-Payments-createPayment';

async function createMerchant(): Promise<string> {
  const response = await fetch(`${apiUrl}/v1/merchants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminApiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `Docs screenshot ${new Date().toISOString()}` }),
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  if (response.status !== 201)
    throw new Error(`POST /v1/merchants answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { api_key: string }).api_key;
}

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
  const clip = await page.evaluate<Clip>(`(() => {
    const operation = document.querySelector('${operationSelector}');
    const answer = operation.querySelector('.live-responses-table');
    const box = operation.getBoundingClientRect();
    const top = box.top + window.scrollY;
    const bottom = answer.getBoundingClientRect().bottom + window.scrollY;
    return { x: box.x, y: top, width: box.width, height: bottom - top + 16 };
  })()`);
  await savePng(page, screenshotFile, clip);
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
  await withChromium(viewport, screenshotFile, (page) => drive(page, apiKey));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
