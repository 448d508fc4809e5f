// When the server loads an installed plugin again after a load failed.
//
// Why: every poll (1 s) used to retry a plugin that could not load, forever:
// the `startloop` guest (a start function that loops) cost a 5 s load
// timeout every 5.5 s, and a start trap or an out-of-bounds data segment two
// error lines per poll. Now:
//   - a load that crashed or hung its sandbox (LOAD_CRASHED, LOAD_TIMEOUT), or
//     one the server did not survive (the crash marker set around each load
//     was still there at start-up), marks the plugin *faulty* in the
//     database: it is not loaded again until the admin re-enables it
//     (`hearth plugin enable ID`) or installs a new version;
//   - any other failure is remembered for that wasm, grants and config (the
//     signature): the same signature is retried after 5 s, 10 s, 20 s, …, at
//     most every 10 minutes; a change to any of them retries at once.
import { PluginError } from '../../plugins/errors.js';
import { truncate } from '../../plugins/plugin-log.js';
import type { StoredFault } from '../../db/plugins.js';

export const RETRY_BASE_MS = 5_000;
export const RETRY_CAP_MS = 10 * 60_000;

/** Delay before the next attempt after `failures` failed loads in a row. */
export function retryDelayMs(failures: number): number {
  return Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
}

/** A load that crashed or hung its sandbox thread: retrying it would do the same. */
export function crashedOrHung(err: unknown): boolean {
  return err instanceof PluginError && (err.code === 'LOAD_CRASHED' || err.code === 'LOAD_TIMEOUT');
}

export function loadFault(err: unknown, sha256: string | null): StoredFault {
  const code = err instanceof PluginError ? err.code : 'LOAD_FAILED';
  return { kind: `load:${code}`, hook: null, message: truncate((err as Error).message ?? String(err)), at: new Date().toISOString(), sha256 };
}

interface Failure {
  signature: string;
  failures: number;
  retryAt: number;
}

/** The failed loads of this server run, per plugin, keyed by signature. */
export class LoadBackoff {
  private readonly failed = new Map<string, Failure>();

  /** Whether a load of `id` with this signature is due now. */
  due(id: string, signature: string, now = Date.now()): boolean {
    const f = this.failed.get(id);
    return !f || f.signature !== signature || now >= f.retryAt;
  }

  /** Records a failure; returns the count in a row and when to try next. */
  fail(id: string, signature: string, now = Date.now()): { failures: number; retryAt: number } {
    const prev = this.failed.get(id);
    const failures = prev && prev.signature === signature ? prev.failures + 1 : 1;
    const retryAt = now + retryDelayMs(failures);
    this.failed.set(id, { signature, failures, retryAt });
    return { failures, retryAt };
  }

  /** Holds a signature back until it changes (a wasm waiting for approval). */
  hold(id: string, signature: string): boolean {
    const f = this.failed.get(id);
    const fresh = !f || f.signature !== signature;
    this.failed.set(id, { signature, failures: f?.signature === signature ? f.failures : 0, retryAt: Number.POSITIVE_INFINITY });
    return fresh;
  }

  clear(id: string): void {
    this.failed.delete(id);
  }
}
