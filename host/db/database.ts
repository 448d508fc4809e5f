// Opens the one SQLite file of a server (WAL, foreign keys on) and brings its
// schema up to date. WAL lets the admin CLI work on the same file while the
// server runs.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log/logger.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/** The schema version this Hearth writes: the number of migrations it knows. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export type DatabaseErrorCode =
  /** The file's PRAGMA user_version is above SCHEMA_VERSION: a newer Hearth wrote it. */
  | 'SCHEMA_TOO_NEW'
  /** A migration failed; its transaction was rolled back, the file keeps its previous version. */
  | 'MIGRATION_FAILED';

export class DatabaseError extends Error {
  constructor(
    readonly code: DatabaseErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DatabaseError';
  }
}

/** Refuses a database from a newer Hearth, before anything is written to it. */
export function checkSchemaVersion(version: number, file: string): void {
  if (version > SCHEMA_VERSION) {
    throw new DatabaseError(
      'SCHEMA_TOO_NEW',
      `${file} has schema version ${version}, but this Hearth knows versions up to ${SCHEMA_VERSION}: it was written by a newer Hearth. ` +
        'Upgrade Hearth (it never downgrades a database), or restore a backup made with this version.',
    );
  }
}

export function openDatabase(file: string, log: Logger): Db {
  mkdirSync(dirname(file), { recursive: true });
  // Every statement, at trace level only (the callback costs a call per query; off otherwise).
  const db = new Database(file, log.isLevelEnabled('trace') ? { verbose: (sql) => log.trace({ component: 'db', sql }, 'sql') } : {});
  try {
    // Checked first: switching to WAL below already writes to the file's header.
    checkSchemaVersion(schemaVersion(db), file);
  } catch (err) {
    db.close();
    throw err;
  }
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  try {
    migrate(db, log);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, log: Logger): void {
  const from = schemaVersion(db);
  checkSchemaVersion(from, db.name);
  if (from > 0 && from < SCHEMA_VERSION) log.info({ component: 'db', from, to: SCHEMA_VERSION }, 'database schema older than this Hearth: migrating forward');
  for (let v = from; v < SCHEMA_VERSION; v++) {
    const sql = MIGRATIONS[v]!;
    try {
      db.transaction(() => {
        db.exec(sql);
        // PRAGMA takes no bound parameters; v is a loop counter, never input.
        db.pragma(`user_version = ${v + 1}`);
      })();
    } catch (err) {
      throw new DatabaseError('MIGRATION_FAILED', `migrating ${db.name} from schema version ${v} to ${v + 1} failed (nothing of that step was applied): ${(err as Error).message}`);
    }
    log.info({ component: 'db', version: v + 1 }, 'database migrated');
  }
}
