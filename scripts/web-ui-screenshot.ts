// Screenshot of the Temporal Web UI listing stuck payments with their own status in a column:
// `npx tsx scripts/web-ui-screenshot.ts` against a running `npm start` (its Web UI).
//
// Drives a headless Chromium through its DevTools pipe (scripts/chromium-devtools.ts) as the
// README's runbook (Finding stuck payments) tells an operator to: opens Workflows with the
// stuck-payments query in the URL, opens Configure Columns, adds the PaymentStatus, MerchantId,
// AmountMinor and Currency columns (and removes Run ID, Type and End to make room), closes the
// drawer, checks that every row listed shows a status that is not an end state, and saves the
// page. The query is the README's with SINCE = now minus STUCK_MINUTES.
//
// Settings (environment): TEMPORAL_UI_URL (default http://127.0.0.1:8233), NAMESPACE (default
// default), STUCK_MINUTES (default 15), SCREENSHOT_FILE (default
// docs/img/temporal-ui-stuck-payments.png); and those of scripts/chromium-devtools.ts.

import path from 'node:path';
import { savePng, withChromium, type Page } from './chromium-devtools.ts';

const uiUrl = process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233';
const namespace = process.env.NAMESPACE ?? 'default';
const stuckMinutes = Number(process.env.STUCK_MINUTES ?? 15);
const screenshotFile = path.resolve(process.env.SCREENSHOT_FILE ?? 'docs/img/temporal-ui-stuck-payments.png');
const viewport = { width: 1760, height: 600 };
const notFinal = ['processing', 'requires_review', 'requires_capture', 'requires_attention'];
const columnsAdded = ['PaymentStatus', 'MerchantId', 'AmountMinor', 'Currency'];
const columnsRemoved = ['Run ID', 'Type', 'End'];

/** The README's stuck-payments query, SINCE as `date -u +%Y-%m-%dT%H:%M:%SZ` writes it. */
function stuckPaymentsQuery(): string {
  const since = new Date(Date.now() - stuckMinutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const statuses = notFinal.map((status) => `'${status}'`).join(',');
  return `PaymentStatus IN (${statuses}) AND StartTime < '${since}'`;
}

async function configureColumns(page: Page): Promise<void> {
  await page.click('[aria-label="Configure Columns"]');
  for (const column of columnsRemoved) await page.click(`[aria-label="Remove ${column} column"]`);
  for (const column of columnsAdded) await page.click(`[aria-label="Add ${column} column"]`);
  await page.click('[data-testid="drawer-close-button"]');
  await page.waitFor('the drawer closed', `document.querySelector('[data-testid="drawer-close-button"]') === null`);
  await page.waitFor(
    'the columns in the table',
    `(() => {
      const headers = [...document.querySelectorAll('table thead th')].map((cell) => cell.textContent.trim());
      return ${JSON.stringify(columnsAdded)}.every((column) => headers.includes(column));
    })()`,
  );
}

async function drive(page: Page): Promise<void> {
  const query = stuckPaymentsQuery();
  await page.send('Page.navigate', {
    url: `${uiUrl}/namespaces/${namespace}/workflows?query=${encodeURIComponent(query)}`,
  });
  await page.waitFor('the listed workflows', `document.querySelector('[aria-label^="Select Workflow pay_"]') !== null`);
  await configureColumns(page);
  // Every row is a payment in a status that is not an end state, as the query asks.
  const statuses = await page.evaluate<string[]>(`(() => {
    const headers = [...document.querySelectorAll('table thead th')].map((cell) => cell.textContent.trim());
    const column = headers.indexOf('PaymentStatus');
    return [...document.querySelectorAll('table tbody tr')].map((row) => row.children[column]?.textContent.trim());
  })()`);
  if (statuses.length === 0 || !statuses.every((status) => notFinal.includes(status))) {
    throw new Error(`the list shows PaymentStatus ${JSON.stringify(statuses)}`);
  }
  await savePng(page, screenshotFile);
  // The UI keeps the columns in the browser, not on the server: said, so the README can.
  const kept = await page.evaluate<string[]>(`Object.keys(localStorage).filter((key) => /column/i.test(key))`);
  process.stdout.write(
    `${screenshotFile}: ${statuses.length} stuck payments listed for ${query}; columns kept in localStorage ${JSON.stringify(kept)}\n`,
  );
}

withChromium(viewport, screenshotFile, drive).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
