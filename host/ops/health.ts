// Liveness and readiness, as /healthz and /readyz answer them and
// `hearth status` prints them.
// - healthz: the process answers at all (its event loop turns).
// - readyz: the server can do its job: it is not draining, both listeners are
//   bound, and the database takes a write. The write is real (a settings row
//   rewritten through the server's own connection), so a full disk, a file
//   made immutable or a read-only remount all fail it, where a read would still
//   pass. Results are kept for a second so a prober hammering /readyz cannot
//   turn into a write flood.
import { performance } from 'node:perf_hooks';
import type { Store } from '../db/store.js';

/** Settings key the probe rewrites (value: the time of the probe). */
export const READY_PROBE_KEY = 'ops_ready_probe';
const CACHE_MS = 1000;

export interface CheckResult {
  ok: boolean;
  detail: string;
}

export interface Readiness {
  ready: boolean;
  checks: { database: CheckResult; control: CheckResult; voice: CheckResult; draining: CheckResult };
}

export interface ReadinessSource {
  readonly store: Store;
  readonly draining: boolean;
  /** Bound addresses, null while not listening. */
  readonly listeners: { control: string | null; voice: string | null };
}

/** One write through `store`, timed; any SQLite error (SQLITE_IOERR, SQLITE_READONLY, SQLITE_FULL, busy...) fails it. */
export function probeDatabase(store: Store): CheckResult {
  const t0 = performance.now();
  try {
    if (!store.db.open) return { ok: false, detail: 'database is closed' };
    store.settings.set(READY_PROBE_KEY, String(Date.now()));
    return { ok: true, detail: `write probe ${(performance.now() - t0).toFixed(1)} ms` };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { ok: false, detail: `write failed: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}` };
  }
}

export class HealthChecks {
  private cached: { at: number; value: Readiness } | null = null;

  constructor(private readonly src: ReadinessSource) {}

  readiness(now = Date.now()): Readiness {
    if (this.cached && now - this.cached.at < CACHE_MS && !this.src.draining) return this.cached.value;
    const { control, voice } = this.src.listeners;
    const draining = this.src.draining;
    const checks: Readiness['checks'] = {
      draining: { ok: !draining, detail: draining ? 'shutting down' : 'serving' },
      control: { ok: control !== null, detail: control === null ? 'not listening' : `tls ${control}` },
      voice: { ok: voice !== null, detail: voice === null ? 'not bound' : `udp ${voice}` },
      // No write while draining: the database is about to be closed.
      database: draining ? { ok: false, detail: 'closing' } : probeDatabase(this.src.store),
    };
    const value: Readiness = { ready: Object.values(checks).every((c) => c.ok), checks };
    this.cached = { at: now, value };
    return value;
  }
}
