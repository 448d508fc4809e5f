// `hearth backup` as a separate process while a real server takes chat from
// two clients, then `hearth restore` into a fresh data directory: every
// message acknowledged before the backup began is there, the snapshot is
// consistent (no acknowledged message missing below the newest one it holds),
// integrity_check is ok, and a server starts on it with the same identity.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { appendFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlClient } from '../../host/client/control/control-client.js';
import { eventually, loginAs, sleep, startServer, tempDir } from '../helpers/server.js';
import { runCli } from './ops-helpers.js';

const test = suite('backup and restore');

interface Acked {
  id: number;
  text: string;
}

test('a backup taken while clients chat restores every acknowledged message, integrity ok', async () => {
  const t = await startServer({ limits: { chatMessagesPerWindow: 1_000_000, messagesPerSecond: 100_000, messageBurst: 100_000, historyKeepPerChannel: 1_000_000 } });
  const clients: ControlClient[] = [await loginAs(t, 'alice'), await loginAs(t, 'bob')];
  const acked: Acked[] = [];
  let talking = true;
  const talk = async (c: ControlClient, name: string) => {
    for (let i = 0; talking; i++) {
      const r = await c.request<{ message: Acked }>('chat.send', { channelId: 1, text: `${name} says ${i}` });
      acked.push({ id: r.message.id, text: r.message.text });
    }
  };
  const loops = [talk(clients[0]!, 'alice'), talk(clients[1]!, 'bob')];
  const out = join(tempDir('hearth-bk-'), 'backup');
  const restored = tempDir('hearth-restored-');
  try {
    await eventually(() => acked.length >= 50, 10_000, 'chat flowing');
    const before = [...acked];
    const backup = await runCli(['backup', '--data', t.dataDir, out]);
    const whenDone = acked.length;
    await sleep(50);
    talking = false;
    await Promise.all(loops);
    assert.is(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /integrity_check ok/);
    assert.ok(whenDone > before.length, 'clients kept chatting while the backup ran (the copy was taken under writes)');
    assert.equal(readdirSync(out).sort(), ['backup.json', 'hearth.db', 'tls']);
    assert.is(statSync(join(out, 'tls', 'key.pem')).mode & 0o777, 0o600, 'the private key stays private');

    const r = await runCli(['restore', out, '--data', restored]);
    assert.is(r.code, 0, r.stderr);
    const db = new Database(join(restored, 'hearth.db'), { readonly: true });
    const integrity = db.pragma('integrity_check', { simple: true });
    const rows = new Map(db.prepare<[], Acked>('SELECT id, text FROM chat_messages').all().map((m) => [m.id, m.text]));
    db.close();
    assert.is(integrity, 'ok');
    for (const m of before) assert.is(rows.get(m.id), m.text, `acknowledged message ${m.id} restored`);
    const newest = Math.max(...rows.keys());
    const missing = acked.filter((m) => m.id <= newest && rows.get(m.id) !== m.text);
    assert.is(missing.length, 0, 'a consistent snapshot: nothing acknowledged below its newest message is missing');

    // A server runs on the restored directory with the same identity and accounts.
    const t2 = await startServer({}, restored);
    try {
      assert.is(t2.fingerprint, t.fingerprint, 'same TLS identity: clients keep their pin');
      const c = await loginAs(t2, 'alice');
      c.close();
    } finally {
      await t2.stop({ keepData: true });
    }

    // Refusals: onto the running server's directory, over a database without --force, a tampered backup.
    const running = await runCli(['restore', out, '--data', t.dataDir, '--force']);
    assert.is(running.code, 1);
    assert.match(running.stderr, /is running on/);
    const again = await runCli(['restore', out, '--data', restored]);
    assert.is(again.code, 1);
    assert.match(again.stderr, /already holds a database; give --force/);
    const forced = await runCli(['restore', out, '--data', restored, '--force']);
    assert.is(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /previous files are in .*pre-restore-/);
    appendFileSync(join(out, 'tls', 'cert.pem'), '\n');
    const tampered = await runCli(['restore', out, '--data', tempDir('hearth-restored-')]);
    assert.is(tampered.code, 1);
    assert.match(tampered.stderr, /tls\/cert\.pem is missing or was altered/);
  } finally {
    talking = false;
    await Promise.allSettled(loops);
    for (const c of clients) c.close();
    await t.stop();
  }
});

test('a .tar.gz backup round-trips; backing up onto an existing path is refused', async () => {
  const t = await startServer();
  const dir = tempDir('hearth-bk-');
  try {
    const c = await loginAs(t, 'carol');
    await c.request('chat.send', { channelId: 1, text: 'into the tarball' });
    c.close();
    const tarball = join(dir, 'hearth.tar.gz');
    const b = await runCli(['backup', '--data', t.dataDir, tarball]);
    assert.is(b.code, 0, b.stderr);
    assert.ok(existsSync(tarball));
    assert.equal(readdirSync(dir), ['hearth.tar.gz'], 'no work directory left behind');
    const again = await runCli(['backup', '--data', t.dataDir, tarball]);
    assert.is(again.code, 1);
    assert.match(again.stderr, /already exists/);
    const target = tempDir('hearth-restored-');
    const r = await runCli(['restore', tarball, '--data', target]);
    assert.is(r.code, 0, r.stderr);
    const db = new Database(join(target, 'hearth.db'), { readonly: true });
    const row = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM chat_messages WHERE text = ?').get('into the tarball');
    db.close();
    assert.is(row?.n, 1);
  } finally {
    await t.stop();
  }
});

test.run();
