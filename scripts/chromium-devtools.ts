// A headless Chromium driven through the DevTools protocol over a pipe
// (--remote-debugging-pipe: JSON messages ended by a NUL byte, written to its file descriptor 3
// and read from its 4), so the screenshot scripts need no npm package. Clicks are mouse events
// at an element's centre and typing is inserted text (Input.dispatchMouseEvent, Input.insertText),
// as a user's would be. Used by scripts/docs-screenshot.ts and scripts/web-ui-screenshot.ts.
//
// Settings (environment): CHROMIUM (default chromium: Debian's package), SCREENSHOT_TIMEOUT_MS
// (default 30000) bounds every wait.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

const chromium = process.env.CHROMIUM ?? 'chromium';
const timeoutMs = Number(process.env.SCREENSHOT_TIMEOUT_MS ?? 30_000);
const pollIntervalMs = 100;

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
  /** A mouse click at the centre of the element `selector` names, scrolled into view and uncovered first. */
  const click = async (selector: string): Promise<void> => {
    const centre = await waitFor<{ x: number; y: number }>(
      selector,
      `(() => {
        const element = document.querySelector(${JSON.stringify(selector)});
        if (!element) return null;
        element.scrollIntoView({ block: 'center' });
        const box = element.getBoundingClientRect();
        const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
        // Only once the element itself is under the mouse there: not while a drawer slides in.
        const hit = box.width > 0 ? document.elementFromPoint(centre.x, centre.y) : null;
        return hit && element.contains(hit) ? centre : null;
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

export type Page = ReturnType<typeof pageOf>;

/** A clip of the page, in CSS pixels from the document's top left. */
export interface Clip {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Saves `clip` of the page (beyond the viewport if need be), or the viewport, as a PNG. */
export async function savePng(page: Page, file: string, clip?: Clip): Promise<void> {
  const shot = (await page.send('Page.captureScreenshot', {
    format: 'png',
    ...(clip ? { clip: { ...clip, scale: 1 }, captureBeyondViewport: true } : {}),
  })) as { data: string };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, Buffer.from(shot.data, 'base64'));
}

/**
 * Runs `drive` on a blank page of a fresh headless Chromium of `viewport`'s size, then closes
 * it. A failed step saves what the page showed as `<failureFile>.failed.png` and `.html`.
 */
export async function withChromium(
  viewport: { width: number; height: number },
  failureFile: string,
  drive: (page: Page) => Promise<void>,
): Promise<void> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'chromium-devtools-'));
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
    await page.send('Emulation.setDeviceMetricsOverride', { ...viewport, deviceScaleFactor: 1, mobile: false });
    try {
      await drive(page);
    } catch (error) {
      await savePng(page, `${failureFile}.failed.png`);
      await writeFile(`${failureFile}.failed.html`, await page.evaluate<string>('document.documentElement.outerHTML'));
      throw error;
    }
  } finally {
    const exited = once(browser, 'exit');
    browser.kill();
    await exited;
    await rm(profile, { recursive: true, force: true, maxRetries: 5 });
  }
}
