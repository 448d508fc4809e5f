// Opens the one SQLite file of a server (WAL, foreign keys on) and brings its
// schema up to date. WAL lets the admin CLI work on the same file while the
// server runs.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log/logger.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export function openDatabase(file: string, log: Logger): Db {
  mkdirSync(dirname(file), { recursive: true });
  // Every statement, at trace level only (the callback costs a call per query; off otherwise).
  const db = new Database(file, log.isLevelEnabled('trace') ? { verbose: (sql) => log.trace({ component: 'db', sql }, 'sql') } : {});
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  migrate(db, log);
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, log: Logger): void {
  const from = schemaVersion(db);
  if (from > MIGRATIONS.length) {
    throw new Error(`database schema version ${from} is newer than this Hearth (${MIGRATIONS.length}); upgrade Hearth`);
  }
  for (let v = from; v < MIGRATIONS.length; v++) {
    const sql = MIGRATIONS[v]!;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
    log.info({ component: 'db', version: v + 1 }, 'database migrated');
  }
}
