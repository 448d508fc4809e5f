// Command output for people at a terminal (not logging: logs go through pino).
//
// Nothing stored reaches the terminal raw. Names, reasons and descriptions come
// from clients, plugins or a hand-edited database; an ESC, OSC, CSI (also the
// 8-bit U+009B) or BEL in them would be a command to the admin's terminal (set
// the title, rewrite the screen, hide text, ring), a CR or line separator
// would overwrite the line, and a bidi override would reorder the columns after
// it. So every printed value goes through escapeField(), and out()/err() escape
// whatever is left as a last line of defence. Escapes are written \uXXXX (a
// surrogate pair beyond the BMP), which reads the same in JavaScript and JSON.
const UNSAFE = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\p{Cf}]/gu;
/** As UNSAFE, but keeps the newlines a multi-line output is made of. */
const UNSAFE_IN_LINES = /(?!\n)[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\p{Cf}]/gu;

const hex4 = (unit: number): string => `\\u${unit.toString(16).padStart(4, '0')}`;

function escapeChar(ch: string): string {
  let s = '';
  for (let i = 0; i < ch.length; i++) s += hex4(ch.charCodeAt(i));
  return s;
}

/**
 * One value as it may be printed: every control, format (bidi, zero-width...),
 * separator and lone-surrogate character as \uXXXX, and "\" as "\\" so that an
 * escape and a name that spells one out cannot be told apart only by looking.
 */
export function escapeField(value: unknown): string {
  return String(value).replace(/\\/g, '\\\\').replace(UNSAFE, escapeChar);
}

/** Escapes what escapeField() would, except "\" and newlines (for whole lines of output). */
export function escapeLines(text: string): string {
  return text.replace(UNSAFE_IN_LINES, escapeChar);
}

export const out = (line = ''): void => {
  process.stdout.write(escapeLines(line) + '\n');
};
export const err = (line: string): void => {
  process.stderr.write(escapeLines(line) + '\n');
};

/** Left-aligned text table; every cell is escaped. */
export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '-' : escapeField(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(columns), ...cells.map(fmt)].join('\n');
}
