// The log file stream: JSON lines into <dir>/<name>.<N>.log, a new N when the
// file passes a size or a day (or hour) begins, the newest keep + 1 files kept.
//
// Why not pino-roll (which this replaced): it loads all of date-fns to name
// files by date, which we never do, and that alone was 5 MB of a server's
// resident memory (docs/OPERATIONS.md: memory). The writing itself is
// sonic-boom, pino's own file stream; this module only decides when to move
// to the next file and which old files to delete.
import { readdirSync, statSync, unlink } from 'node:fs';
import { join } from 'node:path';
import sonicBoom, { type SonicBoom as SonicBoomStream } from 'sonic-boom';

// sonic-boom is CommonJS (`module.exports = SonicBoom`) but its types declare an
// ES default export; under NodeNext the default import is the constructor.
const SonicBoom = sonicBoom as unknown as typeof SonicBoomStream;

export interface RollingFileOptions {
  dir: string;
  /** Base name: files are `<name>.<N>.log`, N from 1 upward. */
  name: string;
  /** Move to the next file once the current one holds this many bytes. */
  sizeBytes: number;
  /** Also move on each day or hour boundary (local time), or every so many ms. */
  frequency: 'daily' | 'hourly' | number;
  /** Rolled files kept besides the active one. */
  keep: number;
}

const UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "10m", "512k", "1g", "5" (MiB: the default unit), "10MB" → bytes; binary units, as pino-roll read them. */
export function parseSize(size: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmg])?b?\s*$/i.exec(size);
  if (!m) throw new Error(`log size ${JSON.stringify(size)} is not a size such as "10m", "512k" or "1g"`);
  const bytes = Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'm').toLowerCase()]!);
  if (bytes < 1) throw new Error(`log size ${JSON.stringify(size)} is below one byte`);
  return bytes;
}

/** Milliseconds from `now` to the next boundary of `frequency`. */
export function msToNextBoundary(frequency: 'daily' | 'hourly' | number, now: Date): number {
  if (typeof frequency === 'number') return frequency;
  const next = new Date(now);
  if (frequency === 'hourly') next.setHours(now.getHours() + 1, 0, 0, 0);
  else next.setHours(24, 0, 0, 0);
  return Math.max(1, next.getTime() - now.getTime());
}

export class RollingFile {
  private readonly pattern: RegExp;
  private readonly boom: SonicBoomStream;
  private number: number;
  /** Bytes written to the current file (counted when sonic-boom has written them). */
  private bytes: number;
  /** A roll was asked for and the next file is not open yet. */
  private rolling = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The last write error (disk full, directory gone): logging must never take the process down. */
  lastError: Error | null = null;

  constructor(private readonly opts: RollingFileOptions) {
    this.pattern = new RegExp(`^${opts.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.log$`);
    // Files of earlier runs: continue in the newest (a restart appends, never
    // truncates) and prune the rest down to what `keep` allows.
    const existing = this.existingNumbers();
    this.number = existing.length > 0 ? existing[existing.length - 1]! : 1;
    this.bytes = this.sizeOf(this.number);
    this.prune();
    this.boom = new SonicBoom({ dest: this.path(this.number), append: true, mkdir: true, sync: false });
    this.boom.on('error', (err: Error) => {
      this.lastError = err;
    });
    // Counting written bytes (not queued ones) and waiting for the next file
    // to be open before the next roll is what makes every rolled file reach
    // the size and the numbers consecutive: two rolls asked for during one
    // write in flight would otherwise skip a number.
    this.boom.on('write', (n: number) => {
      this.bytes += n;
      if (!this.rolling && this.bytes >= this.opts.sizeBytes) this.roll();
    });
    this.boom.on('ready', () => {
      if (!this.rolling) return;
      this.rolling = false;
      this.bytes = 0;
    });
    this.schedule();
  }

  write(line: string): void {
    if (this.closed) return;
    this.boom.write(line);
  }

  /** Writes out what is buffered, synchronously (before a crash or exit). */
  flushSync(): void {
    try {
      this.boom.flushSync();
    } catch {
      // Not open yet, or already closed: nothing to flush.
    }
  }

  /** Flushes and closes the file; idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.flushSync();
    return new Promise<void>((resolve) => {
      this.boom.once('close', () => resolve());
      this.boom.end();
      setTimeout(resolve, 500).unref();
    });
  }

  private roll(): void {
    this.rolling = true;
    this.number += 1;
    // sonic-boom finishes the write in flight, then opens the new file; lines
    // buffered meanwhile land in the new one, in order.
    this.boom.reopen(this.path(this.number));
    this.prune();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      if (!this.rolling && this.bytes > 0) this.roll();
      this.schedule();
    }, msToNextBoundary(this.opts.frequency, new Date()));
    this.timer.unref();
  }

  /** Deletes the files older than the newest keep + 1 (the active one among them). */
  private prune(): void {
    for (const n of this.existingNumbers()) {
      if (n < this.number - this.opts.keep) unlink(this.path(n), () => undefined);
    }
  }

  private existingNumbers(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.opts.dir);
    } catch {
      return [];
    }
    return names
      .map((f) => this.pattern.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  private sizeOf(n: number): number {
    try {
      return statSync(this.path(n)).size;
    } catch {
      return 0;
    }
  }

  private path(n: number): string {
    return join(this.opts.dir, `${this.opts.name}.${n}.log`);
  }
}
