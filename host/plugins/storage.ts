// Persistence of the plugins' key/value storage (capability "storage").
//
// The sandbox thread keeps the plugin's own keys in memory (reads never leave
// the thread); every write comes back to the owner as an effect of the call
// and is persisted here. On (re)start the sandbox gets the persisted keys.
// Effects of a call that faults are dropped, so a crashed call leaves no
// half-written data behind.
import type Database from 'better-sqlite3';

export interface KvStore {
  load(pluginId: string): [string, string][];
  set(pluginId: string, key: string, value: string): void;
  delete(pluginId: string, key: string): void;
}

export class MemoryKvStore implements KvStore {
  private readonly data = new Map<string, Map<string, string>>();
  load(pluginId: string): [string, string][] {
    return [...(this.data.get(pluginId) ?? new Map<string, string>())];
  }
  set(pluginId: string, key: string, value: string): void {
    let m = this.data.get(pluginId);
    if (!m) this.data.set(pluginId, (m = new Map()));
    m.set(key, value);
  }
  delete(pluginId: string, key: string): void {
    this.data.get(pluginId)?.delete(key);
  }
}

/** SQLite-backed store: table plugin_kv in the server's database (created if missing). */
export class SqliteKvStore implements KvStore {
  private readonly selectAll: Database.Statement<[string], { key: string; value: string }>;
  private readonly upsert: Database.Statement<[string, string, string, number]>;
  private readonly remove: Database.Statement<[string, string]>;

  constructor(db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS plugin_kv (
      plugin_id TEXT NOT NULL,
      key TEXT NOT NULL,
      value TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (plugin_id, key)
    ) WITHOUT ROWID`);
    this.selectAll = db.prepare('SELECT key, value FROM plugin_kv WHERE plugin_id = ? ORDER BY key');
    this.upsert = db.prepare(
      'INSERT INTO plugin_kv (plugin_id, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (plugin_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
    this.remove = db.prepare('DELETE FROM plugin_kv WHERE plugin_id = ? AND key = ?');
  }

  load(pluginId: string): [string, string][] {
    return this.selectAll.all(pluginId).map((r) => [r.key, r.value]);
  }
  set(pluginId: string, key: string, value: string): void {
    this.upsert.run(pluginId, key, value, Date.now());
  }
  delete(pluginId: string, key: string): void {
    this.remove.run(pluginId, key);
  }
}
