// Makes a fresh clone runnable before `npm start` / `npm test` do their work: installs
// dependencies if they are missing (npm ci, from the lockfile) and generates the Prisma
// client when prisma/schema.prisma changed. Plain Node, no dependencies, so it runs first.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (command, args, env = {}) =>
  execFileSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });

const lock = readFileSync(path.join(root, 'package-lock.json'));
const installedLock = path.join(root, 'node_modules', '.package-lock.json');
const lockStamp = path.join(root, 'node_modules', '.bootstrap-lock-hash');
const lockHash = createHash('sha256').update(lock).digest('hex');
if (!existsSync(installedLock) || !existsSync(lockStamp) || readFileSync(lockStamp, 'utf8') !== lockHash) {
  process.stderr.write('[bootstrap] installing dependencies (npm ci)\n');
  run(npm, ['ci', '--no-audit', '--no-fund']);
  writeFileSync(lockStamp, lockHash);
}

const schema = readFileSync(path.join(root, 'prisma', 'schema.prisma'));
const generatedStamp = path.join(root, 'src', 'generated', '.schema-hash');
const schemaHash = createHash('sha256').update(schema).digest('hex');
if (!existsSync(generatedStamp) || readFileSync(generatedStamp, 'utf8') !== schemaHash) {
  process.stderr.write('[bootstrap] generating the Prisma client\n');
  // `prisma generate` only checks that a schema engine file exists; it never runs it, and the
  // native download is unreachable offline. Migrations use the wasm engine (src/db/migrate.ts).
  run(npm, ['exec', '--', 'prisma', 'generate'], {
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? path.join(root, 'package.json'),
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  });
  writeFileSync(generatedStamp, schemaHash);
}
