import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

// A server we spawn outlives its starter when the starter is killed outright (SIGKILL, a CI
// timeout): Node cannot ask the kernel to end children with their parent. Each start therefore
// leaves a note of its child in a folder, and the next start ends the children whose starter
// is gone. `isOurs` checks the process is still the server we started (a pid can be reused).

export interface ChildNote {
  /** Removes the note; call once the child has exited. */
  remove(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when the process's command line contains `marker`. */
export async function commandLineIncludes(pid: number, marker: string): Promise<boolean> {
  const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return commandLine.includes(marker);
}

export async function endOrphanedChildren(
  notesDir: string,
  isOurs: (pid: number) => Promise<boolean>,
  log: (line: string) => void,
): Promise<void> {
  const notes = await readdir(notesDir).catch(() => [] as string[]);
  for (const note of notes) {
    const file = path.join(notesDir, note);
    const { pid, starterPid } = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as {
      pid?: number;
      starterPid?: number;
    };
    if (pid === undefined || starterPid === undefined || isAlive(starterPid)) continue;
    if (isAlive(pid) && (await isOurs(pid))) {
      log(`ending process ${pid} (${path.basename(notesDir)}), left behind by process ${starterPid}`);
      process.kill(pid, 'SIGTERM');
    }
    await rm(file, { force: true });
  }
}

export async function noteChild(notesDir: string, pid: number | undefined): Promise<ChildNote> {
  const file = path.join(notesDir, `${pid ?? 'unknown'}.json`);
  await mkdir(notesDir, { recursive: true });
  await writeFile(file, JSON.stringify({ pid, starterPid: process.pid }));
  return { remove: () => rm(file, { force: true }) };
}
