// Upgrades: a database written by an older Hearth (fewer migrations applied)
// is migrated forward at start with its data intact; one written by a newer
// Hearth is refused with a clear message and left untouched, by the server
// and by `hearth restore`.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { checkSchemaVersion, DatabaseError, SCHEMA_VERSION } from '../../host/db/database.js';
import { MIGRATIONS } from '../../host/db/migrations.js';
import { Store } from '../../host/db/store.js';
import { silentLogger } from '../../host/log/logger.js';
import { createBackup, restoreBackup } from '../../host/ops/backup.js';
import { OpsError } from '../../host/ops/errors.js';
import { hashPassword } from '../../host/server/password.js';
import { loginAs, PASSWORD, startServer, tempDir } from '../helpers/server.js';
import { runCli } from './ops-helpers.js';

const test = suite('schema upgrades');

/** A database as Hearth with only the first `version` migrations left it. */
function oldDatabase(dir: string, version: number): Database.Database {
  const db = new Database(join(dir, 'hearth.db'));
  db.pragma('journal_mode = WAL');
  for (let v = 0; v < version; v++) db.exec(MIGRATIONS[v]!);
  db.pragma(`user_version = ${version}`);
  return db;
}

test('an older database is migrated forward with its accounts and chat', async () => {
  assert.ok(SCHEMA_VERSION >= 4, 'there are migrations to run');
  const dir = tempDir();
  const db = oldDatabase(dir, 3);
  const hash = await hashPassword(PASSWORD);
  const user = db.prepare<[string, string, string, string, number]>('INSERT INTO users (username, username_key, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?)');
  user.run('olduser', 'olduser', hash, 'member', Date.now());
  db.prepare<[number, string, string, number]>('INSERT INTO chat_messages (channel_id, sender_name, text, created_at) VALUES (?, ?, ?, ?)').run(1, 'olduser', 'from the old days', Date.now());
  db.close();
  const t = await startServer({}, dir);
  try {
    assert.is(t.server.store.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.is(t.server.store.db.pragma('integrity_check', { simple: true }), 'ok');
    const c = await loginAs(t, 'olduser');
    const history = await c.request<{ messages: Array<{ text: string }> }>('chat.history', { channelId: 1 });
    assert.ok(history.messages.some((m) => m.text === 'from the old days'));
    c.close();
  } finally {
    await t.stop();
  }
});

test('a database from a newer Hearth is refused, clearly, and not touched', async () => {
  const dir = tempDir();
  const db = oldDatabase(dir, SCHEMA_VERSION);
  db.pragma(`user_version = ${SCHEMA_VERSION + 2}`);
  db.pragma('journal_mode = DELETE');
  db.close();
  try {
    Store.open(dir, silentLogger());
    assert.unreachable('opened a newer database');
  } catch (err) {
    assert.instance(err, DatabaseError);
    assert.is((err as DatabaseError).code, 'SCHEMA_TOO_NEW');
  }
  const r = await runCli(['server', '--data', dir, '--host', '127.0.0.1', '--port', '0']);
  assert.is(r.code, 1);
  assert.match(r.stderr, new RegExp(`hearth: .*schema version ${SCHEMA_VERSION + 2}, but this Hearth knows versions up to ${SCHEMA_VERSION}: it was written by a newer Hearth\\. Upgrade Hearth`));
  const check = new Database(join(dir, 'hearth.db'), { readonly: true });
  assert.is(check.pragma('user_version', { simple: true }), SCHEMA_VERSION + 2, 'version unchanged');
  assert.is(check.pragma('journal_mode', { simple: true }), 'delete', 'not even switched to WAL');
  check.close();
  assert.throws(() => checkSchemaVersion(SCHEMA_VERSION + 1, 'x'), /newer Hearth/);

  // Restore refuses it too, before touching the target.
  const out = join(tempDir(), 'bk');
  await createBackup({ dataDir: dir, out, hearthVersion: '99.0.0' });
  try {
    restoreBackup({ backup: out, dataDir: tempDir(), force: false });
    assert.unreachable('restored a newer database');
  } catch (err) {
    assert.instance(err, OpsError);
    assert.is((err as OpsError).code, 'BACKUP_TOO_NEW');
    assert.match((err as Error).message, /backup made by Hearth 99\.0\.0/);
  }
});

test.run();
