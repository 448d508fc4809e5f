import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ControlClient } from '../../host/client/control/control-client.js';
import type { BanView } from '../../host/protocol/server-messages.js';
import { connect, eventually, expectError, loginAs, PASSWORD, sleep, startServer, type TestServer } from '../helpers/server.js';

const test = suite<{ t: TestServer; admin: ControlClient; mod: ControlClient; bad: ControlClient }>('moderation');

test.before.each(async (ctx) => {
  ctx.t = await startServer();
  ctx.admin = await loginAs(ctx.t, 'admin', 'admin');
  ctx.mod = await loginAs(ctx.t, 'mod', 'moderator');
  ctx.bad = await loginAs(ctx.t, 'mallory', 'member');
});
test.after.each(async (ctx) => {
  for (const c of [ctx.admin, ctx.mod, ctx.bad]) c.close();
  await ctx.t.stop();
});

const sid = (c: ControlClient) => c.state.self!.sessionId;

test('kick with reason: the user is told why and disappears for others', async ({ mod, bad, admin }) => {
  const closed = bad.waitClose();
  const badSid = sid(bad);
  await mod.request('user.kick', { sessionId: badSid, reason: 'be nice' });
  const r = await closed;
  assert.is(r?.code, 'KICKED');
  assert.is(r?.reason, 'be nice');
  assert.match(r!.message, /be nice/);
  await eventually(() => !admin.state.users.has(badSid), 2000, 'kicked user removed from presence');
  await expectError(mod.request('user.kick', { sessionId: 9999, reason: '' }), 'NOT_FOUND');
});

test('members cannot moderate; moderators cannot act on admins', async ({ mod, bad, admin }) => {
  await expectError(bad.request('user.kick', { sessionId: sid(mod), reason: 'x' }), 'FORBIDDEN');
  await expectError(bad.request('ban.add', { sessionId: sid(mod), reason: 'x' }), 'FORBIDDEN');
  await expectError(bad.request('ban.list', {}), 'FORBIDDEN');
  await expectError(mod.request('user.kick', { sessionId: sid(admin), reason: 'x' }), 'FORBIDDEN');
  await expectError(mod.request('ban.add', { sessionId: sid(admin), reason: 'x' }), 'FORBIDDEN');
});

test('ban by user: disconnected now, refused at login with reason and expiry, listed, then lifted', async ({ t, mod, bad }) => {
  const closed = bad.waitClose();
  const badId = t.server.store.users.findByName('mallory')!.id;
  const { ban } = await mod.request<{ ban: BanView }>('ban.add', { userId: badId, reason: 'spam', durationSeconds: 3600 });
  assert.is(ban.userId, badId);
  assert.ok(ban.expiresAt! > Date.now() + 3500_000);
  assert.is((await closed)?.code, 'BANNED');
  const c = await connect(t);
  const e = await expectError(c.login('mallory', PASSWORD), 'BANNED');
  assert.is(e.details?.reason, 'spam');
  assert.is(e.details?.expiresAt, ban.expiresAt);
  assert.match(e.message, /spam/);
  assert.match(e.message, new RegExp(new Date(ban.expiresAt!).toISOString().slice(0, 16)));
  const list = await mod.request<{ bans: BanView[] }>('ban.list', {});
  assert.ok(list.bans.some((b) => b.id === ban.id && b.username === 'mallory' && b.bannedByName === 'mod'));
  await mod.request('ban.remove', { banId: ban.id });
  await expectError(mod.request('ban.remove', { banId: ban.id }), 'NOT_FOUND');
  const c2 = await connect(t);
  const w = await c2.login('mallory', PASSWORD);
  assert.is(w.self.username, 'mallory');
  c2.close();
});

test('ban by IP: refused at connect with a clear error (another user on that IP too)', async ({ t, mod }) => {
  const { ban } = await mod.request<{ ban: BanView }>('ban.add', { ip: '127.0.0.2', reason: 'bot farm' });
  assert.is(ban.expiresAt, null);
  // The refusal happens at connect, before any login; 127.0.0.2 is still loopback.
  const tls = await import('node:tls');
  const net = await import('node:net');
  const { FrameDecoder } = await import('../../host/protocol/framing.js');
  const msg = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const raw = net.connect({ host: '127.0.0.1', port: t.port, localAddress: '127.0.0.2' });
    const s = tls.connect({ socket: raw, rejectUnauthorized: false });
    const dec = new FrameDecoder(65536);
    s.on('data', (d: Buffer) => {
      for (const f of dec.push(d)) resolve(JSON.parse(f.body.toString()) as Record<string, unknown>);
    });
    s.on('error', reject);
    setTimeout(() => reject(new Error('no refusal')), 3000);
  });
  assert.is(msg.type, 'disconnect');
  assert.is(msg.code, 'BANNED');
  assert.is(msg.reason, 'bot farm');
  assert.is(msg.expiresAt, null);
  assert.match(String(msg.message), /permanently/);
  // 127.0.0.1 is unaffected
  const ok = await connect(t);
  await ok.login('mod', PASSWORD);
  ok.close();
});

test('ban by session bans the account and its address; moderators cannot ban their own address', async ({ t, admin, mod, bad }) => {
  await expectError(mod.request('ban.add', { ip: '127.0.0.1', reason: 'oops' }), 'FORBIDDEN');
  const closed = bad.waitClose();
  const { ban } = await admin.request<{ ban: BanView }>('ban.add', { sessionId: sid(bad), reason: 'troll', durationSeconds: 60 });
  assert.is(ban.ip, '127.0.0.1');
  assert.is(ban.userId, t.server.store.users.findByName('mallory')!.id);
  assert.is((await closed)?.code, 'BANNED');
  // the admin issuing the ban is not thrown out by their own address ban... but everyone else on it is
  await eventually(() => mod.closed, 2000, 'moderator on the same address disconnected');
  assert.not.ok(admin.closed);
});

test('expired bans stop applying', async ({ t, mod }) => {
  const badId = t.server.store.users.findByName('mallory')!.id;
  await mod.request('ban.add', { userId: badId, reason: 'cool off', durationSeconds: 1 });
  const c = await connect(t);
  await expectError(c.login('mallory', PASSWORD), 'BANNED');
  await sleep(1100);
  const c2 = await connect(t);
  const w = await c2.login('mallory', PASSWORD);
  assert.is(w.self.username, 'mallory');
  const active = await mod.request<{ bans: BanView[] }>('ban.list', {});
  assert.is(active.bans.length, 0, 'expired ban not listed as active');
  const all = await mod.request<{ bans: BanView[] }>('ban.list', { includeExpired: true });
  assert.is(all.bans.length, 1, 'but kept as history');
  c2.close();
});

test('user.list for moderators shows accounts without password hashes', async ({ mod }) => {
  const r = await mod.request<{ users: Array<Record<string, unknown>> }>('user.list', {});
  assert.ok(r.users.length >= 3);
  for (const u of r.users) {
    assert.not.ok('passwordHash' in u);
    assert.not.ok(JSON.stringify(u).includes('argon2'));
  }
});

test.run();
