// The one logging module of the host. Structured JSON goes to rolling `.log`
// files under <data>/logs (rolling-file.ts: rolled by size and by time, a
// bounded number kept); an interactive terminal also gets readable output
// (pino-pretty, loaded only then: a server under systemd never pays for it).
// Streams run on the main thread on purpose: audio has its own worker thread,
// and an in-thread stream can be flushed deterministically on shutdown.
import { mkdirSync } from 'node:fs';
import pino, { type Logger, type StreamEntry } from 'pino';
import { parseSize, RollingFile } from './rolling-file.js';

export type { Logger } from 'pino';

export interface LogOptions {
  /** Directory that receives the rolling files (normally <data>/logs). */
  dir: string;
  /** Base file name; files are `<name>.<N>.log`. */
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

export async function createLogger(opts: LogOptions): Promise<HostLogger> {
  mkdirSync(opts.dir, { recursive: true });
  const level = opts.level ?? 'info';
  const file = new RollingFile({
    dir: opts.dir,
    name: opts.name ?? 'hearth',
    sizeBytes: parseSize(opts.size ?? '10m'),
    frequency: opts.frequency ?? 'daily',
    keep: opts.keep ?? 10,
  });

  const streamLevel = level === 'silent' ? 'fatal' : level;
  // A line logged after close() (a worker's exit event, a late timer while the
  // server stops) is dropped: writing to the ended file stream would throw
  // "SonicBoom destroyed" out of pino and crash the process on its way out.
  // (RollingFile.write drops it once closed.)
  const streams: StreamEntry[] = [{ level: streamLevel, stream: { write: (line: string) => file.write(line) } }];
  const pretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  if (pretty) {
    const { default: pinoPretty } = await import('pino-pretty');
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

  return { logger, close: () => file.close() };
}

/** A logger that drops everything: for library use and unit tests that don't inspect logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
