// Logging from a voice shard. The project's log (host/log/logger.ts) is one
// pino instance on the main thread writing one rolling file; a second writer
// on the same file from a worker would interleave and roll it behind the
// main one's back. So a shard logs through a pino of its own whose stream
// posts each line to the main thread, which re-logs it through the lane's
// logger (redaction, file, terminal: all as for any other line), with the
// shard's index added. Lines are never per packet (the lane summarises), so
// a message per line costs nothing that matters.
import type { MessagePort } from 'node:worker_threads';
import pino from 'pino';
import type { Logger } from '../../log/logger.js';
import type { ShardToMain } from './shard-messages.js';

/** A shard's logger: JSON lines to `port`, at the main logger's level. */
export function shardLogger(port: MessagePort, level: string): Logger {
  const stream = {
    write(line: string): void {
      port.postMessage({ type: 'log', line } satisfies ShardToMain);
    },
  };
  return pino({ level, base: null, timestamp: false }, stream);
}

/** Main thread: one line from shard `index` into `log` at its own level. */
export function relogShardLine(log: Logger, index: number, line: string): void {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    log.warn({ shard: index, line: line.slice(0, 200) }, 'voice shard wrote an unreadable log line');
    return;
  }
  const { level, msg, ...fields } = rec;
  const label = typeof level === 'number' ? pino.levels.labels[level] : undefined;
  const method = label === 'trace' || label === 'debug' || label === 'info' || label === 'warn' || label === 'error' || label === 'fatal' ? label : 'info';
  log[method]({ shard: index, ...fields }, typeof msg === 'string' ? msg : '');
}
