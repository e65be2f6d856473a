import { createHash } from 'node:crypto';
import { access, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { payloadConverterPath } from './data-converter.ts';

// The workflow bundle, prebuilt. Bundling workflows/ (webpack) takes seconds, so a worker that
// bundled at every start polled seconds late after each restart. The bundle is written once per
// version of its inputs to .build/workflow-bundle-<fingerprint>.js and loaded from there; the
// fingerprint is a hash of everything the bundle can contain, so a worker never runs a bundle
// built from other sources: a missing fingerprint means a new build, never a stale load.

const projectRoot = path.resolve(import.meta.dirname, '..', '..');
// Compiled by `npm run build`, this module is a .js file, and so is the workflows' entry.
const moduleExtension = path.extname(import.meta.filename);
export const workflowsPath = path.join(projectRoot, 'workflows', `index${moduleExtension}`);
export const workflowBundleDir = path.join(projectRoot, '.build');
const bundlePrefix = 'workflow-bundle-';

/**
 * Source folders hashed whole: more than the bundle needs (activities/ and most of src/ reach
 * workflows only as types), so no import a workflow gains can escape the fingerprint.
 * src/generated is the Prisma client, which uses Node built-ins the bundler refuses anyway.
 */
const sourceDirs = ['workflows', 'activities', 'src'];
const excludedDirs = new Set([path.join('src', 'generated')]);
/** The lockfile pins every bundled dependency; the installed SDK is checked in case it drifted. */
const dependencyFiles = [
  'package-lock.json',
  path.join('node_modules', '@temporalio', 'workflow', 'package.json'),
  path.join('node_modules', '@temporalio', 'worker', 'package.json'),
];

/** Bundles workflows/ now, with the payload converter the worker and clients use. */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath,
    payloadConverterPath,
    logger: quietBundlerLogger,
  });
}

const quietBundlerLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => process.stderr.write(`workflow bundle: ${message}\n`),
  error: (message: string) => process.stderr.write(`workflow bundle: ${message}\n`),
};

async function listFiles(relativeDir: string): Promise<string[]> {
  if (excludedDirs.has(relativeDir)) return [];
  const entries = await readdir(path.join(projectRoot, relativeDir), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const relative = path.join(relativeDir, entry.name);
      if (entry.isDirectory()) return listFiles(relative);
      return entry.isFile() ? [relative] : [];
    }),
  );
  return nested.flat();
}

/** sha256 over the path and content of every input, in a fixed order. */
export async function workflowBundleFingerprint(): Promise<string> {
  const sources = (await Promise.all(sourceDirs.map(listFiles))).flat();
  const files = [...sources.sort(), ...dependencyFiles];
  const contents = await Promise.all(files.map((file) => readFile(path.join(projectRoot, file))));
  const hash = createHash('sha256');
  files.forEach((file, index) => {
    hash.update(`${file.split(path.sep).join('/')}\0`);
    hash.update(contents[index] as Buffer);
    hash.update('\0');
  });
  return hash.digest('hex');
}

export function workflowBundlePath(fingerprint: string): string {
  return path.join(workflowBundleDir, `${bundlePrefix}${fingerprint}.js`);
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Written under a temporary name and renamed, so a reader never sees half a bundle. */
async function saveBundle(file: string, code: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, code);
  await rename(partial, file);
}

/** Bundles of earlier sources are never loaded again; a process already running one has read it. */
async function removeOtherBundles(keep: string): Promise<void> {
  const names = await readdir(workflowBundleDir).catch(() => [] as string[]);
  const others = names.filter((name) => name.startsWith(bundlePrefix) && path.join(workflowBundleDir, name) !== keep);
  await Promise.all(others.map((name) => rm(path.join(workflowBundleDir, name), { force: true })));
}

export type PrebuiltWorkflowBundle = { codePath: string } | { code: string };

const defaultLog = (line: string): void => {
  process.stderr.write(`workflow bundle: ${line}\n`);
};

/**
 * The bundle of the current sources: the prebuilt file when one exists for their fingerprint,
 * otherwise bundled now and saved for the next start. Falls back to the bundle in memory when
 * it cannot be saved (a read-only image) or the sources changed while bundling.
 */
export async function ensureWorkflowBundle(log = defaultLog): Promise<PrebuiltWorkflowBundle> {
  const fingerprint = await workflowBundleFingerprint();
  const codePath = workflowBundlePath(fingerprint);
  if (await exists(codePath)) return { codePath };
  log('no prebuilt bundle for the current sources; bundling workflows/ (takes a few seconds)');
  const { code } = await bundleWorkflows();
  if ((await workflowBundleFingerprint()) !== fingerprint) {
    log('sources changed while bundling; using this bundle once, without saving it');
    return { code };
  }
  try {
    await saveBundle(codePath, code);
    await removeOtherBundles(codePath);
    return { codePath };
  } catch (error) {
    log(`could not save ${codePath} (${String(error)}); using the bundle in memory`);
    return { code };
  }
}
