// Command output for people at a terminal (not logging: logs go through pino).
export const out = (line = ''): void => {
  process.stdout.write(line + '\n');
};
export const err = (line: string): void => {
  process.stderr.write(line + '\n');
};

/** Left-aligned text table. */
export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '-' : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(columns), ...cells.map(fmt)].join('\n');
}
