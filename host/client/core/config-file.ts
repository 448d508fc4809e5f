// One client config file: a small JSON document checked against a zod schema
// when read, and written atomically (temp file + fsync + rename, mode 0600),
// so a crash mid-write leaves the old file whole. A file that is not valid
// JSON or fails its schema is never overwritten silently (config-store.ts
// says why): reading throws ClientConfigError, saving is refused until
// reset() moves the bad file aside.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';

// ---------------------------------------------------------------------------
// Errors

export type ClientConfigProblem = 'unreadable' | 'bad-json' | 'schema' | 'refused-save' | 'bad-value';

export interface ConfigIssue {
  path: string;
  message: string;
}

export class ClientConfigError extends Error {
  constructor(
    /** Absolute path of the file. */
    readonly file: string,
    readonly problem: ClientConfigProblem,
    readonly issues: ConfigIssue[],
    /** What is wrong, without the file name (e.g. "is not valid JSON: … (line 3, column 15)"). */
    readonly detail: string,
    hint = '',
  ) {
    super(`${basename(file)}: ${detail}${hint} (${file})`);
    this.name = 'ClientConfigError';
  }

  /** The file's own name (e.g. "settings.json"). */
  get fileName(): string {
    return basename(this.file);
  }
}

const issuesOf = (err: z.ZodError): ConfigIssue[] => err.issues.slice(0, 10).map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
const describe = (issues: ConfigIssue[]) => issues.map((i) => `${i.path || '(top level)'}: ${i.message}`).join('; ');

/** "… at position 17" → "line 2, column 5": people fix files by line, not by offset. */
function jsonErrorDetail(err: unknown, text: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  const m = /position (\d+)/.exec(msg);
  if (!m) return msg;
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${msg} (line ${line}, column ${column})`;
}

// ---------------------------------------------------------------------------
// Atomic, validated JSON files

/**
 * Writes `text` to `file` so that readers see either the old or the new file,
 * never a torn one: a temp file in the same directory (same file system, so
 * rename is atomic), flushed to disk, then renamed over the target. The temp
 * file is created with `mode` and rename keeps it, so the final file has
 * `mode` even if an older copy was more permissive.
 */
export function writeFileAtomic(file: string, text: string, mode = 0o600): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fd: number | null = null;
  try {
    // 'wx': never follow or reuse something already lying at the temp name.
    fd = openSync(tmp, 'wx', mode);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, file);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  // Make the rename itself durable; not possible everywhere (Windows), and losing it only loses this save.
  try {
    const dfd = openSync(dirname(file), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // best effort
  }
}

const RESET_HINT = '. Fix it by hand, or reset it to start from defaults (the bad file is kept aside)';

/** Timestamp usable in a file name on every OS (no ':'). */
const fileStamp = (now: Date) => now.toISOString().replace(/[:.]/g, '-');

/** One JSON file with a schema and defaults. */
export class JsonConfigFile<S extends z.ZodType> {
  constructor(
    readonly path: string,
    private readonly schema: S,
    private readonly defaults: () => z.output<S>,
    private readonly mode = 0o600,
  ) {}

  get name(): string {
    return basename(this.path);
  }

  /** The file's content, or the defaults when it does not exist. Throws ClientConfigError when it is bad. */
  load(): z.output<S> {
    if (!existsSync(this.path)) return this.defaults();
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      throw new ClientConfigError(this.path, 'unreadable', [], `cannot be read: ${(err as Error).message}`);
    }
    // Editors on Windows like to prepend a byte-order mark; JSON.parse does not.
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ClientConfigError(this.path, 'bad-json', [], `is not valid JSON: ${jsonErrorDetail(err, text)}`, RESET_HINT);
    }
    const r = this.schema.safeParse(value);
    if (!r.success) {
      const issues = issuesOf(r.error);
      throw new ClientConfigError(this.path, 'schema', issues, `is not a valid ${this.name}: ${describe(issues)}`, RESET_HINT);
    }
    return r.data;
  }

  /** Whether the file on disk is bad right now (null: fine or absent). */
  problem(): ClientConfigError | null {
    try {
      this.load();
      return null;
    } catch (err) {
      if (err instanceof ClientConfigError) return err;
      throw err;
    }
  }

  /**
   * Validates `value` and writes it atomically. Refused while the file on disk
   * is bad: the user may be halfway through fixing it by hand.
   */
  save(value: z.input<S>): z.output<S> {
    const r = this.schema.safeParse(value);
    if (!r.success) {
      const issues = issuesOf(r.error);
      throw new ClientConfigError(this.path, 'bad-value', issues, `refusing to save an invalid value: ${describe(issues)}`);
    }
    const bad = this.problem();
    if (bad) {
      throw new ClientConfigError(this.path, 'refused-save', bad.issues, `refusing to overwrite it: the file on disk ${bad.detail}`, RESET_HINT);
    }
    writeFileAtomic(this.path, JSON.stringify(r.data, null, 2) + '\n', this.mode);
    return r.data;
  }

  /** Reads, changes and saves in one step (the change sees the current file, not a stale copy). */
  update(fn: (current: z.output<S>) => z.input<S>): z.output<S> {
    return this.save(fn(this.load()));
  }

  /**
   * Moves the file aside as <name>.corrupt-<timestamp> (kept, never deleted:
   * the user may want to copy something back out of it), so the next load
   * starts from defaults. Returns where the old file went, or null if there was none.
   */
  reset(now = new Date()): string | null {
    if (!existsSync(this.path)) return null;
    let aside = `${this.path}.corrupt-${fileStamp(now)}`;
    for (let n = 2; existsSync(aside); n++) aside = `${this.path}.corrupt-${fileStamp(now)}-${n}`;
    renameSync(this.path, aside);
    return aside;
  }
}
