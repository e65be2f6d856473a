import type { ChildProcess } from 'node:child_process';
import { noteChild } from './child-notes.ts';

// A server process we started (Temporal's dev server, nats-server): noted so that a later start
// ends it should its starter die (child-notes.ts), and stopped politely, then firmly.

export interface SupervisedChild {
  /** Why it exited (exit code, signal or spawn error), or undefined while it runs. */
  exitReason(): string | undefined;
  /** SIGTERM, SIGKILL after stopTimeoutMs, then the note goes. */
  stop(): Promise<void>;
}

export async function supervise(
  child: ChildProcess,
  notesDir: string,
  stopTimeoutMs: number,
): Promise<SupervisedChild> {
  const note = await noteChild(notesDir, child.pid);
  let exitReason: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitReason = `code ${code ?? 'none'}, signal ${signal ?? 'none'}`;
      resolve();
    });
  });
  child.once('error', (error) => {
    exitReason = error.message;
  });
  return {
    exitReason: () => exitReason,
    stop: async () => {
      if (exitReason === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
        await exited;
        clearTimeout(timer);
      }
      await note.remove();
    },
  };
}
