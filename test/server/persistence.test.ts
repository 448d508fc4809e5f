import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { ChannelView } from '../../host/protocol/server-messages.js';
import { ControlClient } from '../../host/client/control/control-client.js';
import { FingerprintMismatchError } from '../../host/client/control/known-hosts.js';
import { schemaVersion } from '../../host/db/database.js';
import { MIGRATIONS } from '../../host/db/migrations.js';
import { connect, expectError, loginAs, PASSWORD, startServer, tempDir } from '../helpers/server.js';

test('a restart keeps accounts, roles, channels, bans, chat history and the certificate', async () => {
  const dir = tempDir();
  let t = await startServer({}, dir);
  const admin = await loginAs(t, 'admin', 'admin');
  await loginAs(t, 'victim', 'member').then((c) => c.close());
  const c = await connect(t);
  await c.register('newbie', PASSWORD);
  const room = (await admin.request<{ channel: ChannelView }>('channel.create', { parentId: 1, name: 'Room', requiredRole: 'member', description: 'kept' })).channel;
  const sub = (await admin.request<{ channel: ChannelView }>('channel.create', { parentId: room.id, name: 'Sub' })).channel;
  await admin.request('chat.send', { channelId: room.id, text: 'remember me' });
  const victimId = t.server.store.users.findByName('victim')!.id;
  await admin.request('ban.add', { userId: victimId, reason: 'persisted ban' });
  await admin.request('user.setRole', { userId: t.server.store.users.findByName('newbie')!.id, role: 'moderator' });
  const fp = t.fingerprint;
  admin.close();
  c.close();
  await t.stop({ keepData: true });

  t = await startServer({}, dir);
  try {
    assert.is(t.fingerprint, fp, 'certificate reused, fingerprint stable');
    assert.is(t.bootstrapToken, null, 'an admin exists: no bootstrap token');
    const again = await connect(t);
    const w = await again.login('NEWBIE', PASSWORD);
    assert.is(w.self.role, 'moderator');
    const r = w.channels.find((x) => x.id === room.id);
    assert.ok(r && r.name === 'Room' && r.description === 'kept' && r.requiredRole === 'member');
    assert.is(w.channels.find((x) => x.id === sub.id)?.parentId, room.id);
    const hist = await again.request<{ messages: Array<{ text: string }> }>('chat.history', { channelId: room.id });
    assert.equal(hist.messages.map((m) => m.text), ['remember me']);
    const v = await connect(t);
    const e = await expectError(v.login('victim', PASSWORD), 'BANNED');
    assert.is(e.details?.reason, 'persisted ban');
    assert.is(schemaVersion(t.server.store.db), MIGRATIONS.length);
    again.close();
    v.close();
  } finally {
    await t.stop();
  }
});

test('the client pins the fingerprint on first use and refuses a changed certificate', async () => {
  const known = join(tempDir('hearth-known-'), 'known_hosts.json');
  const t1 = await startServer();
  const port = t1.port;
  const c1 = await ControlClient.connect({ host: '127.0.0.1', port, knownHostsFile: known, pingIntervalMs: 0 });
  assert.is(c1.fingerprint, t1.fingerprint);
  c1.close();
  const c2 = await ControlClient.connect({ host: '127.0.0.1', port, knownHostsFile: known, pingIntervalMs: 0 });
  c2.close();
  await t1.stop();
  // A different server (new key) on the same address and port.
  const t2 = await startServer({ port });
  try {
    assert.is.not(t2.fingerprint, t1.fingerprint);
    try {
      await ControlClient.connect({ host: '127.0.0.1', port, knownHostsFile: known, pingIntervalMs: 0 });
      assert.unreachable('connected despite a changed certificate');
    } catch (err) {
      assert.instance(err, FingerprintMismatchError);
      assert.match((err as Error).message, /fingerprint of 127\.0\.0\.1:\d+ changed/);
    }
    // An explicitly given wrong fingerprint is refused too.
    await ControlClient.connect({ host: '127.0.0.1', port, fingerprint: t1.fingerprint, pingIntervalMs: 0 }).then(
      () => assert.unreachable('wrong explicit fingerprint accepted'),
      (err: unknown) => assert.instance(err, FingerprintMismatchError),
    );
  } finally {
    await t2.stop();
    rmSync(known, { force: true });
  }
});

test.run();
