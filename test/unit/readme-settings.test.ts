import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Every environment variable src/config.ts reads is in the README's settings table.

const source = readFileSync(new URL('../../src/config.ts', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Names passed to the readers (`integer('PORT', 3000)`, `list('RISK_BLOCKED_CARDS', …)`…). */
function settingsRead(): string[] {
  const names = [...source.matchAll(/\b[a-zA-Z]+\('([A-Z][A-Z0-9_]+)'\s*[,)]/g)].map((match) => match[1]!);
  return [...new Set(names)].sort();
}

/** The names in the first column of the table under `## Configuration`. */
function settingsDocumented(): Set<string> {
  const section = readme.slice(readme.indexOf('## Configuration'));
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  return new Set(rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)));
}

describe('README settings table', () => {
  it('lists every setting src/config.ts reads', () => {
    const read = settingsRead();
    expect(read.length).toBeGreaterThan(80);
    expect(read).toContain('RISK_BLOCKED_CARDS');
    const documented = settingsDocumented();
    expect(read.filter((name) => !documented.has(name))).toEqual([]);
  });
});
