// `npm run bench`: the ledger, webhook-intake, payment and import benchmarks one after another,
// each as its own process exactly as its own npm script runs it (and writing its own section of
// docs/benchmarks.md unless BENCH_WRITE_DOCS=0), then their headline figures, each beside its
// same-run baseline, into bench/results/<date>.json, the summary at the top of
// docs/benchmarks.md and the figures on the README's first screen.
//
// Options: BENCH_ONLY (comma-separated: ledger,webhooks,payments,import), BENCH_WRITE_DOCS (0:
// print and write bench/results only). Every benchmark's own options pass through.

import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';
import { benchResultFileVariable, ratioToBaseline, type BenchResult, type HeadlineFigure } from './bench-results.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const benches = ['ledger', 'webhooks', 'payments', 'import'] as const;
type Bench = (typeof benches)[number];
/** A benchmark that runs longer has hung: the run stops rather than wait for ever. */
const benchTimeoutMs = 45 * 60 * 1000;
const writeDocs = process.env.BENCH_WRITE_DOCS !== '0';

interface Outcome {
  bench: Bench;
  command: string;
  exitCode: number | null;
  seconds: number;
  result: BenchResult | undefined;
}

function selected(): Bench[] {
  const only = process.env.BENCH_ONLY?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (!only) return [...benches];
  const unknown = only.filter((name) => !(benches as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY names unknown benchmarks: ${unknown.join(', ')}`);
  return benches.filter((bench) => only.includes(bench));
}

async function runBench(bench: Bench, resultFile: string): Promise<Outcome> {
  const script = `scripts/bench-${bench}.ts`;
  const started = Date.now();
  process.stderr.write(`\n[bench] ${bench}: npx tsx ${script}\n`);
  const child = spawn(path.join(projectRoot, 'node_modules', '.bin', 'tsx'), [script], {
    cwd: projectRoot,
    env: { ...process.env, [benchResultFileVariable]: resultFile },
    stdio: 'inherit',
  });
  const timer = setTimeout(() => child.kill('SIGINT'), benchTimeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  clearTimeout(timer);
  const result = await readFile(resultFile, 'utf8')
    .then((text) => JSON.parse(text) as BenchResult)
    .catch(() => undefined);
  return { bench, command: `npm run bench:${bench}`, exitCode, seconds: (Date.now() - started) / 1000, result };
}

const integer = (value: number): string => Math.round(value).toLocaleString('en-US');

function summaryRows(outcomes: Outcome[]): string[] {
  const rows = [
    '| benchmark | figure | value | same-run baseline | ratio | p99 | checks | command |',
    '| --- | --- | ---: | --- | ---: | ---: | --- | --- |',
  ];
  for (const outcome of outcomes) {
    const figures: (HeadlineFigure | undefined)[] = outcome.result?.figures.length
      ? outcome.result.figures
      : [undefined];
    for (const figure of figures) {
      const checks = outcome.exitCode === 0 && outcome.result?.checksPassed ? 'OK' : `FAIL (exit ${outcome.exitCode})`;
      rows.push(
        figure
          ? `| ${outcome.bench} | ${figure.name} (${figure.row}) | ${integer(figure.value)} ${figure.unit} | ` +
              `${figure.baseline.name}: ${integer(figure.baseline.value)} | ${ratioToBaseline(figure).toFixed(2)}x | ` +
              `${figure.p99Ms === undefined ? '-' : `${figure.p99Ms.toFixed(1)} ms`} | ${checks} | \`${outcome.command}\` |`
          : `| ${outcome.bench} | (no figure) | - | - | - | - | ${checks} | \`${outcome.command}\` |`,
      );
    }
  }
  return rows;
}

function machineLine(): string {
  const cpus = os.cpus();
  return (
    `${os.availableParallelism()} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type().toLowerCase()} ${os.release()}, node ${process.version}`
  );
}

/** Replaces the text between the markers, or puts the block where `insertAt` finds a place. */
function replaceBetween(text: string, name: string, block: string, insertAt: (text: string) => number): string {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const wrapped = `${start}\n\n${block.trim()}\n\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) return `${text.slice(0, from)}${wrapped}${text.slice(to + end.length)}`;
  const at = insertAt(text);
  return `${text.slice(0, at)}${wrapped}\n\n${text.slice(at)}`;
}

async function writeMarkdown(file: string, text: string): Promise<void> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  await writeFile(file, await prettier.format(text, { ...options, parser: 'markdown' }));
}

async function writeDocsSummary(outcomes: Outcome[], date: string, resultPath: string): Promise<void> {
  const docsFile = path.join(projectRoot, 'docs', 'benchmarks.md');
  const block = [
    '# Summary (`npm run bench`)',
    '',
    `Latest run: ${date}, \`npm run bench\`, on ${machineLine()}; the figures as JSON in \`${resultPath}\`. Each`,
    'figure is its benchmark’s headline beside the baseline measured in the same run on the same machine; the',
    'sections below hold every table, the CPU split per process and where the time goes.',
    '',
    ...summaryRows(outcomes),
  ].join('\n');
  const docs = await readFile(docsFile, 'utf8');
  await writeMarkdown(
    docsFile,
    replaceBetween(docs, 'summary', block, () => 0),
  );
}

async function writeReadmeHeadline(outcomes: Outcome[], date: string): Promise<void> {
  const readmeFile = path.join(projectRoot, 'README.md');
  const lines = outcomes.flatMap((outcome) =>
    (outcome.result?.figures ?? []).map(
      (figure) =>
        `- **${integer(figure.value)} ${figure.unit}**: ${figure.name}, ${ratioToBaseline(figure).toFixed(2)}× its ` +
        `baseline (${figure.baseline.name})${figure.p99Ms === undefined ? '' : `, p99 ${figure.p99Ms.toFixed(0)} ms`}.`,
    ),
  );
  const block = [
    `**Measured** (${date}, \`npm run bench\` on ${machineLine()}; how: [docs/benchmarks.md](docs/benchmarks.md)):`,
    '',
    ...lines,
  ].join('\n');
  const readme = await readFile(readmeFile, 'utf8');
  // On the first screen: before the first second-level heading.
  await writeMarkdown(
    readmeFile,
    replaceBetween(readme, 'headline', block, (text) => text.indexOf('\n## ') + 1),
  );
}

async function main(): Promise<void> {
  const chosen = selected();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'bench-all-'));
  const outcomes: Outcome[] = [];
  try {
    for (const bench of chosen) outcomes.push(await runBench(bench, path.join(scratch, `${bench}.json`)));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const date = new Date().toISOString().slice(0, 10);
  const resultPath = path.join('bench', 'results', `${date}.json`);
  await mkdir(path.join(projectRoot, 'bench', 'results'), { recursive: true });
  await writeFile(
    path.join(projectRoot, resultPath),
    `${JSON.stringify({ date: new Date().toISOString(), machine: machineLine(), benches: outcomes }, null, 2)}\n`,
  );
  process.stdout.write(`\nSummary (${resultPath})\n${summaryRows(outcomes).join('\n')}\n`);
  if (writeDocs) {
    await writeDocsSummary(outcomes, date, resultPath);
    await writeReadmeHeadline(outcomes, date);
  }
  const failed = outcomes.filter((outcome) => outcome.exitCode !== 0 || !outcome.result?.checksPassed);
  if (failed.length > 0) {
    process.stderr.write(`[bench] failed: ${failed.map((outcome) => outcome.bench).join(', ')}\n`);
    process.exitCode = 1;
  }
}

await main();
