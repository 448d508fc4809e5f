// Installed plugins: which are enabled, what the admin granted them (tied to
// the sha256 of the wasm they were granted for, with the manifest approved
// then, so that a new version can be compared with it), their config, and
// what the running server last knew about them (runtime state, last fault,
// the crash marker around a load, the backoff of failed loads).
import type { Db } from './database.js';

/** A fault as stored with its plugin (the last one, of a load or of a call). */
export interface StoredFault {
  kind: string;
  hook: string | null;
  message: string;
  /** ISO timestamp. */
  at: string;
  /** The wasm it happened with. */
  sha256: string | null;
}

export interface PluginRecord {
  id: string;
  enabled: boolean;
  grants: string[];
  grantedSha256: string;
  config: Record<string, unknown>;
  position: number;
  installedAt: number;
  updatedAt: number;
  /** What the server last reported (null: never loaded by a server). */
  runtimeState: string | null;
  stateAt: number | null;
  lastFault: StoredFault | null;
  /** A load crashed or hung its sandbox: not loaded again until the admin re-enables it. */
  faulty: boolean;
  /** Set while a server loads it; still set at start-up means the server died during that load. */
  loadingSha256: string | null;
  /** Failed loads of the current wasm in a row, and when the next attempt is due (ms). */
  failures: number;
  retryAt: number | null;
  /** The manifest the grants were approved for (JSON object; null for installs before it was kept). */
  grantedManifest: Record<string, unknown> | null;
  /** Development mode: a new wasm is re-granted the earlier grants automatically. */
  devRegrant: boolean;
}

interface Row {
  id: string;
  enabled: number;
  grants: string;
  granted_sha256: string;
  config: string;
  position: number;
  installed_at: number;
  updated_at: number;
  runtime_state: string | null;
  state_at: number | null;
  last_fault: string | null;
  faulty: number;
  loading_sha256: string | null;
  failures: number;
  retry_at: number | null;
  granted_manifest: string | null;
  dev_regrant: number;
}

const toRecord = (r: Row): PluginRecord => ({
  id: r.id,
  enabled: r.enabled === 1,
  grants: JSON.parse(r.grants) as string[],
  grantedSha256: r.granted_sha256,
  config: JSON.parse(r.config) as Record<string, unknown>,
  position: r.position,
  installedAt: r.installed_at,
  updatedAt: r.updated_at,
  runtimeState: r.runtime_state,
  stateAt: r.state_at,
  lastFault: r.last_fault ? (JSON.parse(r.last_fault) as StoredFault) : null,
  faulty: r.faulty === 1,
  loadingSha256: r.loading_sha256,
  failures: r.failures,
  retryAt: r.retry_at,
  grantedManifest: r.granted_manifest ? (JSON.parse(r.granted_manifest) as Record<string, unknown>) : null,
  devRegrant: r.dev_regrant === 1,
});

export class PluginsRepo {
  private readonly allStmt;
  private readonly getStmt;
  private readonly upsertStmt;
  private readonly enableStmt;
  private readonly deleteStmt;
  private readonly maxPosStmt;
  private readonly deleteKvStmt;
  private readonly grantStmt;
  private readonly stateStmt;
  private readonly loadingStmt;
  private readonly faultyStmt;
  private readonly failureStmt;
  private readonly devStmt;

  constructor(db: Db) {
    this.allStmt = db.prepare<[], Row>('SELECT * FROM plugins ORDER BY position, id');
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM plugins WHERE id = ?');
    // A (re)install is an approval: it clears the fault, the backoff and the crash marker.
    this.upsertStmt = db.prepare<[string, string, string, string, string | null, number, number, number]>(
      `INSERT INTO plugins (id, enabled, grants, granted_sha256, config, granted_manifest, position, installed_at, updated_at)
       VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET grants = excluded.grants, granted_sha256 = excluded.granted_sha256,
         config = excluded.config, granted_manifest = excluded.granted_manifest, updated_at = excluded.updated_at,
         faulty = 0, failures = 0, retry_at = NULL, loading_sha256 = NULL`,
    );
    // Enabling is how an admin lets a faulty plugin be loaded again.
    this.enableStmt = db.prepare<[number, number, number, string]>(
      `UPDATE plugins SET enabled = ?, updated_at = ?,
         faulty = CASE WHEN ? = 1 THEN 0 ELSE faulty END, failures = 0, retry_at = NULL, loading_sha256 = NULL WHERE id = ?`,
    );
    this.deleteStmt = db.prepare<[string]>('DELETE FROM plugins WHERE id = ?');
    this.maxPosStmt = db.prepare<[], { p: number | null }>('SELECT MAX(position) AS p FROM plugins');
    this.deleteKvStmt = db.prepare<[string]>('DELETE FROM plugin_kv WHERE plugin_id = ?');
    this.grantStmt = db.prepare<[string, string, string | null, number, string]>(
      `UPDATE plugins SET grants = ?, granted_sha256 = ?, granted_manifest = ?, updated_at = ?,
         faulty = 0, failures = 0, retry_at = NULL WHERE id = ?`,
    );
    this.stateStmt = db.prepare<[string, number, string | null, string]>(
      'UPDATE plugins SET runtime_state = ?, state_at = ?, last_fault = coalesce(?, last_fault) WHERE id = ?',
    );
    this.loadingStmt = db.prepare<[string | null, string]>('UPDATE plugins SET loading_sha256 = ? WHERE id = ?');
    this.faultyStmt = db.prepare<[string, number, string]>(
      "UPDATE plugins SET faulty = 1, loading_sha256 = NULL, last_fault = ?, runtime_state = 'faulty', state_at = ? WHERE id = ?",
    );
    this.failureStmt = db.prepare<[number, number | null, string]>('UPDATE plugins SET failures = ?, retry_at = ? WHERE id = ?');
    this.devStmt = db.prepare<[number, number, string]>('UPDATE plugins SET dev_regrant = ?, updated_at = ? WHERE id = ?');
  }

  all(): PluginRecord[] {
    return this.allStmt.all().map(toRecord);
  }

  get(id: string): PluginRecord | null {
    const r = this.getStmt.get(id);
    return r ? toRecord(r) : null;
  }

  /** Installs or re-grants a plugin; a new plugin goes last in dispatch order. */
  upsert(id: string, grants: string[], grantedSha256: string, config: Record<string, unknown>, now = Date.now(), grantedManifest: Record<string, unknown> | null = null): void {
    const position = this.get(id)?.position ?? (this.maxPosStmt.get()?.p ?? -1) + 1;
    this.upsertStmt.run(id, JSON.stringify(grants), grantedSha256, JSON.stringify(config), grantedManifest ? JSON.stringify(grantedManifest) : null, position, now, now);
  }

  /** The admin's approval of a wasm (by sha256) with these grants. */
  grant(id: string, grants: string[], sha256: string, manifest: Record<string, unknown> | null, now = Date.now()): boolean {
    return this.grantStmt.run(JSON.stringify(grants), sha256, manifest ? JSON.stringify(manifest) : null, now, id).changes === 1;
  }

  /** Enabling also clears a fault mark, the backoff and the crash marker. */
  setEnabled(id: string, enabled: boolean, now = Date.now()): boolean {
    return this.enableStmt.run(enabled ? 1 : 0, now, enabled ? 1 : 0, id).changes === 1;
  }

  setDevRegrant(id: string, on: boolean, now = Date.now()): boolean {
    return this.devStmt.run(on ? 1 : 0, now, id).changes === 1;
  }

  /** What the running server knows now; `fault` (when given) replaces the stored last fault. */
  setRuntimeState(id: string, state: string, fault: StoredFault | null = null, now = Date.now()): void {
    this.stateStmt.run(state, now, fault ? JSON.stringify(fault) : null, id);
  }

  /** The crash marker: set just before a load, cleared (null) after it. */
  setLoading(id: string, sha256: string | null): void {
    this.loadingStmt.run(sha256, id);
  }

  markFaulty(id: string, fault: StoredFault, now = Date.now()): void {
    this.faultyStmt.run(JSON.stringify(fault), now, id);
  }

  setBackoff(id: string, failures: number, retryAt: number | null): void {
    this.failureStmt.run(failures, retryAt, id);
  }

  /** Removes the plugin and its stored data. */
  remove(id: string): boolean {
    this.deleteKvStmt.run(id);
    return this.deleteStmt.run(id).changes === 1;
  }
}
