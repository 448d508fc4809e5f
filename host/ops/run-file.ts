// <data>/hearth.run.json: what a running server tells the tools on the same
// machine (`hearth status`, `hearth restore`): its pid, its addresses and its
// metrics endpoint. Written once it listens, removed at a clean stop; a file
// left by a crash names a pid that is gone, which readers detect.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUN_FILE = 'hearth.run.json';

export interface RunInfo {
  pid: number;
  version: string;
  startedAt: string;
  /** "host:port" of the control lane (TLS) and the voice lane (UDP). */
  control: string;
  voice: string;
  /** "host:port" of the metrics endpoint, or null when it is off. */
  metrics: string | null;
}

export function writeRunFile(dataDir: string, info: RunInfo): void {
  const file = join(dataDir, RUN_FILE);
  // Renamed into place: a reader never sees half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify(info, null, 2) + '\n', { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
}

/** Removes it only if it is still ours (a newer server may have replaced it). */
export function removeRunFile(dataDir: string, pid = process.pid): void {
  if (readRunFile(dataDir)?.pid === pid) rmSync(join(dataDir, RUN_FILE), { force: true });
}

export function readRunFile(dataDir: string): RunInfo | null {
  try {
    return JSON.parse(readFileSync(join(dataDir, RUN_FILE), 'utf8')) as RunInfo;
  } catch {
    return null;
  }
}

/** Is a process with this pid alive? (Signal 0 checks without sending anything.) */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user (the service account).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The run file of a server that is actually running, or null. */
export function runningServer(dataDir: string): RunInfo | null {
  const info = readRunFile(dataDir);
  return info !== null && processAlive(info.pid) ? info : null;
}
