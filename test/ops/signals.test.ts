// A real `hearth server` process, signalled as systemd would:
// SIGHUP with a new certificate and a changed config file: a new client sees
// the new certificate and config, a client connected before stays connected;
// SIGTERM: every client gets disconnect SHUTDOWN, the database is closed (its
// WAL folded back and removed), the process exits 0.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '../../host/client/control/control-client.js';
import type { ServerMessage } from '../../host/protocol/server-messages.js';
import { Store } from '../../host/db/store.js';
import { silentLogger } from '../../host/log/logger.js';
import { hashPassword } from '../../host/server/password.js';
import { loadOrCreateIdentity } from '../../host/tls/certificate.js';
import { PASSWORD, sleep } from '../helpers/server.js';
import { runCli, spawnServer } from './ops-helpers.js';

const dataDir = mkdtempSync(join(tmpdir(), 'hearth-signals-'));

async function prepare(): Promise<void> {
  const store = Store.open(dataDir, silentLogger());
  const hash = await hashPassword(PASSWORD);
  for (const name of ['alice', 'bob', 'carl']) store.users.create(name, hash, 'member');
  store.close();
}

const login = async (port: number, fingerprint: string, name: string) => {
  const c = await ControlClient.connect({ host: '127.0.0.1', port, fingerprint, pingIntervalMs: 0 });
  return { c, welcome: await c.login(name, PASSWORD) };
};

/** Every log file of the data directory (pino-roll may have started another). */
const logs = () =>
  readdirSync(join(dataDir, 'logs'))
    .filter((f) => f.endsWith('.log'))
    .map((f) => readFileSync(join(dataDir, 'logs', f), 'utf8'))
    .join('');

const test = suite('server signals');

test('SIGHUP: a new client sees the new certificate and config; an old one stays connected', async () => {
  await prepare();
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ welcomeText: 'before' }));
  const srv = await spawnServer(['--data', dataDir, '--host', '127.0.0.1', '--port', '0']);
  try {
    const old = await login(srv.port, srv.fingerprint, 'alice');
    assert.is(old.welcome.server.welcomeText, 'before');
    const seen: ServerMessage[] = [];
    old.c.on('message', (m: ServerMessage) => seen.push(m));

    // A new identity (as an admin renewing the certificate would) and a config change.
    const fresh = await loadOrCreateIdentity({ dataDir: mkdtempSync(join(tmpdir(), 'hearth-newcert-')), commonName: 'Renewed' });
    assert.is.not(fresh.fingerprint, srv.fingerprint);
    writeFileSync(join(dataDir, 'tls', 'cert.pem'), fresh.cert);
    writeFileSync(join(dataDir, 'tls', 'key.pem'), fresh.key);
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ welcomeText: 'after', limits: { chatMaxChars: 100 } }));
    srv.child.kill('SIGHUP');

    let fp = '';
    for (let i = 0; i < 50 && fp !== fresh.fingerprint; i++) {
      fp = await ControlClient.probeFingerprint('127.0.0.1', srv.port);
      if (fp !== fresh.fingerprint) await sleep(100);
    }
    assert.is(fp, fresh.fingerprint, 'new handshakes get the new certificate');
    // Pinning the old fingerprint now fails: the client really sees the new one.
    let refused = false;
    await ControlClient.connect({ host: '127.0.0.1', port: srv.port, fingerprint: srv.fingerprint, pingIntervalMs: 0 }).then(
      (c) => c.close(),
      () => (refused = true),
    );
    assert.ok(refused, 'the old pin no longer matches new connections');
    const neu = await login(srv.port, fresh.fingerprint, 'bob');
    assert.is(neu.welcome.server.welcomeText, 'after', 'config reloaded');

    // The old connection: still open, still on the old certificate, still served.
    assert.not.ok(old.c.closed);
    assert.is(old.c.fingerprint, srv.fingerprint);
    await old.c.request('ping');
    const got = neu.c.waitFor((m) => m.type === 'chat.message');
    await old.c.request('chat.send', { channelId: 1, text: 'still here' });
    await got;
    assert.not.ok(seen.some((m) => m.type === 'disconnect'), 'nobody was disconnected');

    // A reload that fails changes nothing and drops nobody.
    writeFileSync(join(dataDir, 'tls', 'key.pem'), 'not a key');
    srv.child.kill('SIGHUP');
    await sleep(300);
    assert.is(await ControlClient.probeFingerprint('127.0.0.1', srv.port), fresh.fingerprint, 'a broken key keeps the current certificate');
    writeFileSync(join(dataDir, 'tls', 'key.pem'), fresh.key);
    await neu.c.request('ping');
    const log = logs();
    assert.match(log, /"msg":"configuration reloaded"/);
    assert.match(log, /reload refused; the running configuration and certificate are unchanged/);
    old.c.close();
    neu.c.close();
  } finally {
    srv.child.kill('SIGTERM');
    await srv.exited;
  }
});

test('SIGTERM: clients told SHUTDOWN, database closed, exit 0', async () => {
  const srv = await spawnServer(['--data', dataDir, '--host', '127.0.0.1', '--port', '0']);
  const a = await login(srv.port, srv.fingerprint, 'alice');
  const b = await login(srv.port, srv.fingerprint, 'bob');
  assert.ok(existsSync(join(dataDir, 'hearth.db-wal')), 'WAL open while running');
  assert.ok(existsSync(join(dataDir, 'hearth.run.json')));
  const closes = [a.c.waitClose(10_000), b.c.waitClose(10_000)];
  srv.child.kill('SIGTERM');
  const [da, db] = await Promise.all(closes);
  assert.is(da?.code, 'SHUTDOWN');
  assert.is(db?.code, 'SHUTDOWN');
  assert.is(await srv.exited, 0, 'exit status 0');
  // SQLite removes the WAL when the last connection closes cleanly.
  assert.not.ok(existsSync(join(dataDir, 'hearth.db-wal')), 'database closed (WAL checkpointed and removed)');
  assert.not.ok(existsSync(join(dataDir, 'hearth.run.json')), 'run file removed');
  const log = logs();
  assert.match(log, /"signal":"SIGTERM","msg":"shutting down"/);
  assert.match(log, /"disconnected":2,"msg":"server stopped"/);
  const st = await runCli(['status', '--data', dataDir]);
  assert.is(st.code, 3);
});

test.after(() => rmSync(dataDir, { recursive: true, force: true }));
test.run();
