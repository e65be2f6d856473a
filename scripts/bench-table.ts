// Fixed-width text tables for the benchmark reports: every bench prints its rows this way.

export interface Column {
  title: string;
  width: number;
  /** Text columns align left; numbers align right. */
  left?: boolean;
}

export function formatRow(layout: Column[], cells: string[]): string {
  return cells
    .map((cell, i) => {
      const column = layout[i];
      if (!column) return cell;
      return column.left ? cell.padEnd(column.width) : cell.padStart(column.width);
    })
    .join('  ')
    .trimEnd();
}

/** The column titles and a rule as long as them. */
export function header(layout: Column[]): string {
  const line = formatRow(
    layout,
    layout.map((column) => column.title),
  );
  return `${line}\n${'-'.repeat(line.length)}`;
}
