import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as prettier from 'prettier';

// docs/benchmarks.md sections that a bench writes itself: the section of bench `name` lies
// between its start and end markers and holds one block per labelled run; a run replaces the
// block of its own label and keeps the others, so "before" and "after" sit side by side.

const docsFile = path.join(path.resolve(import.meta.dirname, '..'), 'docs', 'benchmarks.md');

export interface DocsMarkers {
  sectionStart: string;
  sectionEnd: string;
  runStart(title: string): string;
  runEnd: string;
}

export function docsMarkers(name: string): DocsMarkers {
  return {
    sectionStart: `<!-- bench:${name}:start -->`,
    sectionEnd: `<!-- bench:${name}:end -->`,
    runStart: (title) => `<!-- bench:${name}:run ${JSON.stringify(title)} -->`,
    runEnd: `<!-- bench:${name}:run:end -->`,
  };
}

/**
 * One run's block: its markers, a dated title, the command that printed it, optional lines
 * before the output (`preface`), and the output as printed.
 */
export function runBlock(
  markers: Pick<DocsMarkers, 'runStart' | 'runEnd'>,
  run: { label: string; title: string; command: string; preface?: string[]; out: string[] },
): string {
  return [
    markers.runStart(run.label),
    `### ${run.title}`,
    '',
    `Command: \`${run.command}\``,
    '',
    ...(run.preface ?? []),
    'Output as printed:',
    '',
    '```text',
    ...run.out,
    '```',
    markers.runEnd,
  ].join('\n');
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Writes the section (from `section(runs)`, which must start and end with the markers) with
 * `runBlock` in place of the block titled `title`, or appended; formatted like the rest.
 */
export async function updateDocsSection(
  name: string,
  title: string,
  runBlock: string,
  section: (runs: string[]) => string,
): Promise<string> {
  const { sectionStart, sectionEnd } = docsMarkers(name);
  const current = await readFile(docsFile, 'utf8').catch(() => '');
  const startAt = current.indexOf(sectionStart);
  const endAt = current.indexOf(sectionEnd);
  const hasSection = startAt >= 0 && endAt > startAt;
  const existing = hasSection ? current.slice(startAt, endAt + sectionEnd.length) : '';
  const runs: string[] = [];
  let replaced = false;
  const runPattern = new RegExp(
    `<!-- bench:${escapeRegExp(name)}:run ("(?:[^"\\\\]|\\\\.)*") -->[\\s\\S]*?<!-- bench:${escapeRegExp(name)}:run:end -->`,
    'g',
  );
  for (const match of existing.matchAll(runPattern)) {
    const existingTitle = JSON.parse(match[1] as string) as string;
    if (existingTitle === title) {
      runs.push(runBlock);
      replaced = true;
    } else runs.push(match[0]);
  }
  if (!replaced) runs.push(runBlock);
  const formatted = (
    await prettier.format(section(runs), {
      ...((await prettier.resolveConfig(docsFile)) ?? {}),
      parser: 'markdown',
    })
  ).trimEnd();
  const next = hasSection
    ? `${current.slice(0, startAt)}${formatted}${current.slice(endAt + sectionEnd.length)}`
    : `${current.trimEnd()}\n\n${formatted}\n`;
  await writeFile(docsFile, next);
  return docsFile;
}
