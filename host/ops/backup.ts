// `hearth backup` and `hearth restore`. A backup is a directory (or the same
// directory as a .tar.gz) holding:
//   hearth.db     an online copy made with SQLite's backup API (db.backup()):
//                 a consistent snapshot even while the server writes, WAL
//                 included, which a file copy is not
//   tls/          the identity clients pinned (key.pem stays mode 0600)
//   config.json   the config file, if there is one
//   plugins/      installed plugins' manifests and wasm (the database's
//                 plugins table refers to them)
//   backup.json   written last: versions, and the sha256 of every file above
// Restore checks all of that (checksums, integrity_check, schema version)
// before it touches the data directory, and moves what was there aside
// instead of deleting it.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { checkSchemaVersion, DatabaseError, SCHEMA_VERSION } from '../db/database.js';
import { OpsError } from './errors.js';
import { runningServer } from './run-file.js';

export const MANIFEST = 'backup.json';
const FORMAT = 'hearth-backup';
const FORMAT_VERSION = 1;

export interface BackupManifest {
  format: typeof FORMAT;
  formatVersion: number;
  hearthVersion: string;
  schemaVersion: number;
  createdAt: string;
  files: Array<{ path: string; bytes: number; sha256: string }>;
}

export interface BackupResult {
  out: string;
  manifest: BackupManifest;
  /** TLS files the config names outside the data directory: not in the backup. */
  externalTls: string[];
}

const isTarball = (p: string) => /\.(tar\.gz|tgz)$/.test(p);

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, base));
    else if (e.isFile()) out.push(relative(base, p));
  }
  return out.sort();
}

/** integrity_check and the schema version of a database file, opened read-only. */
export function inspectDatabase(file: string): { integrity: string; schemaVersion: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    return { integrity: rows.map((r) => r.integrity_check).join('; '), schemaVersion: db.pragma('user_version', { simple: true }) as number };
  } finally {
    db.close();
  }
}

/** Copies the live database through SQLite's backup API into `dest` and makes the copy a single self-contained file. */
async function copyDatabase(src: string, dest: string): Promise<number> {
  // Read-write but never written to: a read-only connection cannot create the
  // -shm file a WAL database needs when the server is not running.
  const db = new Database(src, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // After the first step, copy everything left in one step: a step is one
    // read transaction (a snapshot in WAL mode), so a busy server cannot make
    // the copy restart over and over.
    await db.backup(dest, { progress: () => 1 << 30 });
  } finally {
    db.close();
  }
  const copy = new Database(dest);
  try {
    copy.pragma('journal_mode = DELETE');
    return copy.pragma('user_version', { simple: true }) as number;
  } finally {
    copy.close();
  }
}

export async function createBackup(opts: { dataDir: string; out: string; configFile?: string; hearthVersion: string }): Promise<BackupResult> {
  const dataDir = resolve(opts.dataDir);
  const src = join(dataDir, 'hearth.db');
  if (!existsSync(src)) throw new OpsError('BACKUP_SOURCE_MISSING', `no database at ${src}: is ${dataDir} a Hearth data directory?`);
  const finalOut = resolve(opts.out);
  if (existsSync(finalOut) && (isTarball(finalOut) || !statSync(finalOut).isDirectory() || readdirSync(finalOut).length > 0)) {
    throw new OpsError('BACKUP_TARGET_EXISTS', `${finalOut} already exists; give a new path (or an empty directory)`);
  }
  // A tarball is assembled in a private directory next to it, then packed.
  const out = isTarball(finalOut) ? mkdtempSync(join(dirname(finalOut), '.hearth-backup-')) : finalOut;
  // It holds the TLS private key: nobody else may read it.
  mkdirSync(out, { recursive: true, mode: 0o700 });
  chmodSync(out, 0o700);
  try {
    const schemaVersion = await copyDatabase(src, join(out, 'hearth.db'));
    const check = inspectDatabase(join(out, 'hearth.db'));
    if (check.integrity !== 'ok') throw new OpsError('INTEGRITY_FAILED', `the copy of ${src} failed integrity_check: ${check.integrity}`);
    const tls = join(dataDir, 'tls');
    if (existsSync(tls)) {
      cpSync(tls, join(out, 'tls'), { recursive: true });
      chmodSync(join(out, 'tls'), 0o700);
      if (existsSync(join(out, 'tls', 'key.pem'))) chmodSync(join(out, 'tls', 'key.pem'), 0o600);
    }
    const configFile = opts.configFile ? resolve(opts.configFile) : join(dataDir, 'config.json');
    const externalTls: string[] = [];
    if (existsSync(configFile)) {
      copyFileSync(configFile, join(out, 'config.json'));
      const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as { tls?: { certFile?: string; keyFile?: string } };
      for (const f of [cfg.tls?.certFile, cfg.tls?.keyFile]) if (f) externalTls.push(resolve(f));
    }
    const plugins = join(dataDir, 'plugins');
    if (existsSync(plugins)) cpSync(plugins, join(out, 'plugins'), { recursive: true });
    const manifest: BackupManifest = {
      format: FORMAT,
      formatVersion: FORMAT_VERSION,
      hearthVersion: opts.hearthVersion,
      schemaVersion,
      createdAt: new Date().toISOString(),
      files: listFiles(out).map((path) => ({ path, bytes: statSync(join(out, path)).size, sha256: sha256File(join(out, path)) })),
    };
    // Last: a directory without backup.json is an unfinished backup, and restore refuses it.
    writeFileSync(join(out, MANIFEST), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
    if (out !== finalOut) execFileSync('tar', ['-czf', finalOut, '-C', out, '.'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { out: finalOut, manifest, externalTls };
  } catch (err) {
    if (out === finalOut) rmSync(join(out, MANIFEST), { force: true });
    throw err;
  } finally {
    if (out !== finalOut) rmSync(out, { recursive: true, force: true });
  }
}

/** Checks a backup directory completely; returns its manifest. */
export function verifyBackup(dir: string): BackupManifest {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as BackupManifest;
  } catch {
    throw new OpsError('BACKUP_INVALID', `${dir} is not a finished Hearth backup (no readable ${MANIFEST})`);
  }
  if (manifest.format !== FORMAT || manifest.formatVersion !== FORMAT_VERSION) {
    throw new OpsError('BACKUP_INVALID', `${dir}: unknown backup format ${String(manifest.format)} ${String(manifest.formatVersion)}`);
  }
  for (const f of manifest.files) {
    const p = join(dir, f.path);
    if (!existsSync(p) || sha256File(p) !== f.sha256) throw new OpsError('BACKUP_INVALID', `${dir}: ${f.path} is missing or was altered since the backup (sha256 differs)`);
  }
  if (!manifest.files.some((f) => f.path === 'hearth.db')) throw new OpsError('BACKUP_INVALID', `${dir}: the backup holds no hearth.db`);
  const check = inspectDatabase(join(dir, 'hearth.db'));
  if (check.integrity !== 'ok') throw new OpsError('INTEGRITY_FAILED', `${dir}/hearth.db failed integrity_check: ${check.integrity}`);
  try {
    checkSchemaVersion(check.schemaVersion, 'the backup\'s hearth.db');
  } catch (err) {
    if (err instanceof DatabaseError) throw new OpsError('BACKUP_TOO_NEW', `${err.message} (backup made by Hearth ${manifest.hearthVersion})`);
    throw err;
  }
  return { ...manifest, schemaVersion: check.schemaVersion };
}

/** What restore replaces in the data directory. */
const RESTORED = ['hearth.db', 'hearth.db-wal', 'hearth.db-shm', 'tls', 'config.json', 'plugins'];

export interface RestoreResult {
  manifest: BackupManifest;
  /** Where the previous contents went (null: there were none). */
  movedAside: string | null;
  /** The schema version the next start migrates to (== manifest.schemaVersion: nothing to do). */
  migratesTo: number;
}

export function restoreBackup(opts: { backup: string; dataDir: string; force: boolean }): RestoreResult {
  const dataDir = resolve(opts.dataDir);
  const running = runningServer(dataDir);
  if (running) throw new OpsError('SERVER_RUNNING', `a Hearth server (pid ${running.pid}) is running on ${dataDir}; stop it first (systemctl stop hearth)`);
  const src = resolve(opts.backup);
  const unpacked = isTarball(src) ? mkdtempSync(join(tmpdir(), 'hearth-restore-')) : null;
  try {
    if (unpacked) execFileSync('tar', ['-xzf', src, '-C', unpacked], { stdio: ['ignore', 'ignore', 'pipe'] });
    const dir = unpacked ?? src;
    const manifest = verifyBackup(dir);
    mkdirSync(dataDir, { recursive: true });
    const present = RESTORED.filter((f) => existsSync(join(dataDir, f)));
    if (present.includes('hearth.db') || present.includes('hearth.db-wal')) {
      if (!opts.force) throw new OpsError('RESTORE_TARGET_NOT_EMPTY', `${dataDir} already holds a database; give --force to restore over it (its files are moved aside, not deleted)`);
    }
    let movedAside: string | null = null;
    if (present.length > 0) {
      movedAside = join(dataDir, `pre-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      mkdirSync(movedAside, { mode: 0o700 });
      for (const f of present) renameSync(join(dataDir, f), join(movedAside, f));
    }
    copyFileSync(join(dir, 'hearth.db'), join(dataDir, 'hearth.db'));
    for (const d of ['tls', 'plugins']) if (existsSync(join(dir, d))) cpSync(join(dir, d), join(dataDir, d), { recursive: true });
    if (existsSync(join(dataDir, 'tls'))) chmodSync(join(dataDir, 'tls'), 0o700);
    if (existsSync(join(dataDir, 'tls', 'key.pem'))) chmodSync(join(dataDir, 'tls', 'key.pem'), 0o600);
    if (existsSync(join(dir, 'config.json'))) copyFileSync(join(dir, 'config.json'), join(dataDir, 'config.json'));
    return { manifest, movedAside, migratesTo: SCHEMA_VERSION };
  } finally {
    if (unpacked) rmSync(unpacked, { recursive: true, force: true });
  }
}

