// The one logging module of the host. Structured JSON goes to rolling `.log`
// files under <data>/logs (pino-roll, rolled by size and by time, a bounded
// number kept); an interactive terminal also gets readable output (pino-pretty).
// Streams run on the main thread on purpose: audio has its own worker thread,
// and an in-thread stream can be flushed deterministically on shutdown.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger, type DestinationStream, type StreamEntry } from 'pino';
import pinoRoll from 'pino-roll';
import pinoPretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LogOptions {
  /** Directory that receives the rolling files (normally <data>/logs). */
  dir: string;
  /** Base file name; pino-roll appends `.N.log`. */
  name?: string;
  level?: pino.LevelWithSilent;
  /** Roll when a file reaches this size ("10m", "512k"). */
  size?: string;
  /** Roll on a time boundary as well: "daily", "hourly" or milliseconds. */
  frequency?: 'daily' | 'hourly' | number;
  /** Rolled files kept besides the active one. */
  keep?: number;
  /** Pretty output on stderr; defaults to "stderr is a TTY". */
  pretty?: boolean;
}

export interface HostLogger {
  logger: Logger;
  /** Flushes and closes the file stream (call once, at shutdown). */
  close(): Promise<void>;
}

type RollStream = DestinationStream & {
  flushSync?: () => void;
  end: () => void;
  once: (ev: string, cb: () => void) => void;
};

/**
 * pino-roll's `limit.count` only prunes files the current process rolled, so
 * files from earlier runs would pile up across restarts; prune them at start.
 */
function pruneOldFiles(dir: string, name: string, keep: number): void {
  const re = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:.+\\.)?(\\d+)\\.log$`);
  const files = readdirSync(dir)
    .filter((f) => re.test(f))
    .map((f) => ({ f, mtime: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { f } of files.slice(keep + 1)) rmSync(join(dir, f), { force: true });
}

export async function createLogger(opts: LogOptions): Promise<HostLogger> {
  mkdirSync(opts.dir, { recursive: true });
  pruneOldFiles(opts.dir, opts.name ?? 'hearth', opts.keep ?? 10);
  const level = opts.level ?? 'info';
  const roll = (await pinoRoll({
    file: join(opts.dir, opts.name ?? 'hearth'),
    extension: '.log',
    size: opts.size ?? '10m',
    frequency: opts.frequency ?? 'daily',
    limit: { count: opts.keep ?? 10 },
    mkdir: true,
  })) as unknown as RollStream;

  const streamLevel = level === 'silent' ? 'fatal' : level;
  // A line logged after close() (a worker's exit event, a late timer while the
  // server stops) is dropped: writing to the ended file stream would throw
  // "SonicBoom destroyed" out of pino and crash the process on its way out.
  let closed = false;
  const toFile = { write: (line: string): void => void (closed ? undefined : roll.write(line)) };
  const streams: StreamEntry[] = [{ level: streamLevel, stream: toFile as unknown as RollStream }];
  const pretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  if (pretty) {
    streams.push({
      level: streamLevel,
      stream: pinoPretty({ colorize: true, destination: 2, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }),
    });
  }
  const logger = pino(
    {
      level,
      base: { app: 'hearth' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Passwords and secrets must never reach a log, even by accident.
      redact: { paths: ['password', '*.password', 'newPassword', '*.newPassword', 'secret', '*.secret', 'invite', '*.invite', 'bootstrapToken', '*.bootstrapToken'], censor: '[redacted]' },
    },
    pino.multistream(streams, { dedupe: false }),
  );

  return {
    logger,
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        try {
          roll.flushSync?.();
        } catch {
          // Not ready yet or already closed: nothing left to flush.
        }
        roll.once('close', () => resolve());
        roll.end();
        setTimeout(resolve, 500).unref();
      }),
  };
}

/** A logger that drops everything: for library use and unit tests that don't inspect logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
