// Installed plugins: which are enabled, what the admin granted them (tied to
// the sha256 of the wasm they were granted for) and their config.
import type { Db } from './database.js';

export interface PluginRecord {
  id: string;
  enabled: boolean;
  grants: string[];
  grantedSha256: string;
  config: Record<string, unknown>;
  position: number;
  installedAt: number;
  updatedAt: number;
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
});

export class PluginsRepo {
  private readonly allStmt;
  private readonly getStmt;
  private readonly upsertStmt;
  private readonly enableStmt;
  private readonly deleteStmt;
  private readonly maxPosStmt;
  private readonly deleteKvStmt;

  constructor(db: Db) {
    this.allStmt = db.prepare<[], Row>('SELECT * FROM plugins ORDER BY position, id');
    this.getStmt = db.prepare<[string], Row>('SELECT * FROM plugins WHERE id = ?');
    this.upsertStmt = db.prepare<[string, string, string, string, number, number, number]>(
      `INSERT INTO plugins (id, enabled, grants, granted_sha256, config, position, installed_at, updated_at)
       VALUES (?, 1, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET grants = excluded.grants, granted_sha256 = excluded.granted_sha256,
         config = excluded.config, updated_at = excluded.updated_at`,
    );
    this.enableStmt = db.prepare<[number, number, string]>('UPDATE plugins SET enabled = ?, updated_at = ? WHERE id = ?');
    this.deleteStmt = db.prepare<[string]>('DELETE FROM plugins WHERE id = ?');
    this.maxPosStmt = db.prepare<[], { p: number | null }>('SELECT MAX(position) AS p FROM plugins');
    this.deleteKvStmt = db.prepare<[string]>('DELETE FROM plugin_kv WHERE plugin_id = ?');
  }

  all(): PluginRecord[] {
    return this.allStmt.all().map(toRecord);
  }

  get(id: string): PluginRecord | null {
    const r = this.getStmt.get(id);
    return r ? toRecord(r) : null;
  }

  /** Installs or re-grants a plugin; a new plugin goes last in dispatch order. */
  upsert(id: string, grants: string[], grantedSha256: string, config: Record<string, unknown>, now = Date.now()): void {
    const position = this.get(id)?.position ?? (this.maxPosStmt.get()?.p ?? -1) + 1;
    this.upsertStmt.run(id, JSON.stringify(grants), grantedSha256, JSON.stringify(config), position, now, now);
  }

  setEnabled(id: string, enabled: boolean, now = Date.now()): boolean {
    return this.enableStmt.run(enabled ? 1 : 0, now, id).changes === 1;
  }

  /** Removes the plugin and its stored data. */
  remove(id: string): boolean {
    this.deleteKvStmt.run(id);
    return this.deleteStmt.run(id).changes === 1;
  }
}
