import { writeFile } from 'node:fs/promises';

// A benchmark's headline figures, for `npm run bench` (scripts/bench-all.ts): each benchmark
// writes them as JSON to BENCH_RESULT_FILE when that is set, and nothing otherwise. Every figure
// carries its same-run baseline, so no figure travels without what it is measured against.

export interface HeadlineFigure {
  /** What was measured, e.g. "card payments end to end". */
  name: string;
  value: number;
  /** e.g. "payments/s". */
  unit: string;
  /** The same-run baseline: the engine's ceiling, naive SQL, a bare route. */
  baseline: { name: string; value: number };
  /** Latency at the 99th percentile, where the benchmark measures latency. */
  p99Ms?: number | undefined;
  /** The row of the benchmark's own table this figure comes from. */
  row: string;
}

export interface BenchResult {
  bench: string;
  /** The benchmark's own checks (books, outcomes) passed. */
  checksPassed: boolean;
  figures: HeadlineFigure[];
}

export const benchResultFileVariable = 'BENCH_RESULT_FILE';

/** Writes the result where BENCH_RESULT_FILE says; does nothing when it is unset. */
export async function writeBenchResult(result: BenchResult): Promise<void> {
  const file = process.env[benchResultFileVariable];
  if (!file) return;
  for (const figure of result.figures) {
    if (!Number.isFinite(figure.value) || !Number.isFinite(figure.baseline.value)) {
      throw new Error(
        `${result.bench}: figure ${figure.name} is not a number (${figure.value} vs ${figure.baseline.value})`,
      );
    }
  }
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
}

/** The figure's ratio to its baseline. */
export function ratioToBaseline(figure: HeadlineFigure): number {
  return figure.value / figure.baseline.value;
}
