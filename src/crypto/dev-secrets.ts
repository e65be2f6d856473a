import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

// `npm start` without ENCRYPTION_KEYS or CODEC_ACCESS_TOKEN: a secret generated at the first
// start and kept in .data/ (git-ignored, readable by the owner only), so payloads and columns
// encrypted yesterday still decrypt today. Production sets both settings instead.

/** The secret kept in `dir/name`, created by `generate` the first time. */
export async function ensureDevSecret(dir: string, name: string, generate: () => string): Promise<string> {
  const file = path.join(dir, name);
  const existing = await readSecret(file);
  if (existing !== undefined) return existing;
  await mkdir(dir, { recursive: true });
  try {
    // 'wx': two starts racing keep the first one's secret, never overwrite it.
    await writeFile(file, `${generate()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const written = await readSecret(file);
  if (written === undefined) throw new Error(`${file} is empty; delete it to generate a new secret`);
  return written;
}

async function readSecret(file: string): Promise<string | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
