// `npm run build`: compiles the application into dist/, laid out like the repository (dist/src,
// dist/workflows, dist/activities) so that every module's path relative to the project root is
// unchanged: code that finds prisma/, temporal-config/, .build/ or .data/ from its own folder
// finds them in dist/ as it does in a checkout. dist/ is then a complete app folder that needs
// only a node_modules/ (the Dockerfile's runtime stage installs production dependencies there).
//
// `node scripts/build.mjs [outDir]` builds elsewhere (test/integration/build-output.test.ts).
// Plain Node, like bootstrap.mjs, so it runs before anything is compiled.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(root, process.argv[2] ?? 'dist');
// The folder is emptied first: never the checkout or a folder holding it.
if (dist === root || root.startsWith(`${dist}${path.sep}`)) throw new Error(`refusing to build into ${dist}`);
rmSync(dist, { recursive: true, force: true });

// tsc rewrites the `.ts` in relative imports to `.js` (rewriteRelativeImportExtensions).
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', dist], { cwd: root, stdio: 'inherit' });

/** Source folders whose non-TypeScript files are loaded at run time (the payload converter). */
const compiledDirs = ['src', 'workflows', 'activities'];
/** The generated Prisma client is compiled from its .ts files; its schema hash stays behind. */
const skippedDirs = new Set([path.join('src', 'generated')]);

function copyRuntimeFiles(relativeDir) {
  if (skippedDirs.has(relativeDir)) return;
  for (const entry of readdirSync(path.join(root, relativeDir), { withFileTypes: true })) {
    const relative = path.join(relativeDir, entry.name);
    if (entry.isDirectory()) copyRuntimeFiles(relative);
    else if (entry.isFile() && !entry.name.endsWith('.ts')) {
      mkdirSync(path.join(dist, relativeDir), { recursive: true });
      cpSync(path.join(root, relative), path.join(dist, relative));
    }
  }
}
compiledDirs.forEach(copyRuntimeFiles);

// Read at run time from the project root: the migrations and the schema they are checked
// against (src/db/migrate.ts), the Temporal dev-server settings (src/temporal/dev-server.ts),
// and the package files (module type; the lockfile is part of the workflow bundle's fingerprint).
for (const file of [
  'prisma/schema.prisma',
  'prisma/migrations',
  'temporal-config',
  'package.json',
  'package-lock.json',
]) {
  cpSync(path.join(root, file), path.join(dist, file), { recursive: true });
}

process.stderr.write(`[build] ${dist}: node ${path.join(dist, 'src', 'server.js')}\n`);
