// Issue 10, attack 9: whatever a user cannot see must answer exactly as what does
// not exist (same code, same message). A guest who sees only the root must not
// learn that an admin in a hidden channel is online, nor which account ids
// exist; a moderator must not learn who sits in a channel above their role or
// behind an address. Real server over TLS on 127.0.0.1; other loopback
// addresses (127.0.0.3 ...) act as other client IPs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import tls from 'node:tls';
import type { ControlClient } from '../../host/client/control/control-client.js';
import { ServerError } from '../../host/client/control/control-client.js';
import { encodeJsonFrame, FrameDecoder } from '../../host/protocol/framing.js';
import type { BanView, ChannelView, ServerMessage } from '../../host/protocol/server-messages.js';
import { createUser, expectError, loginAs, PASSWORD, startServer, type TestServer } from '../helpers/server.js';

interface Ctx {
  t: TestServer;
  admin: ControlClient;
  mod: ControlClient;
  guest: ControlClient;
  vault: ChannelView;
  adminId: number;
  adminSid: number;
}
const test = suite<Ctx>('visibility: hidden is indistinguishable from absent');

test.before.each(async (ctx) => {
  ctx.t = await startServer();
  ctx.admin = await loginAs(ctx.t, 'root-admin', 'admin');
  ctx.mod = await loginAs(ctx.t, 'mod', 'moderator');
  ctx.guest = await loginAs(ctx.t, 'gus', 'guest');
  ctx.vault = (await ctx.admin.request<{ channel: ChannelView }>('channel.create', { parentId: 1, name: 'Vault', requiredRole: 'admin' })).channel;
  await ctx.admin.request('channel.join', { channelId: ctx.vault.id });
  ctx.adminId = ctx.admin.state.self!.userId;
  ctx.adminSid = ctx.admin.state.self!.sessionId;
});
test.after.each(async (ctx) => {
  for (const c of [ctx.admin, ctx.mod, ctx.guest]) c.close();
  await ctx.t.stop();
});

/** The error's text with the id it names replaced, so two answers can be compared whole. */
async function refusal(p: Promise<unknown>, code: string, id: number): Promise<string> {
  const e: ServerError = await expectError(p, code);
  return `${e.message.replaceAll(String(id), 'N')} ${JSON.stringify(e.details ?? null)}`;
}

test('chat.direct: a guest cannot tell an admin in a hidden channel from an account that does not exist', async ({ t, guest, adminId }) => {
  const offlineId = await createUser(t, 'sleeper', 'member');
  const neverId = 9999;
  const hidden = await refusal(guest.request('chat.direct', { userId: adminId, text: 'are you there?' }), 'NOT_FOUND', adminId);
  const offline = await refusal(guest.request('chat.direct', { userId: offlineId, text: 'hello?' }), 'NOT_FOUND', offlineId);
  const absent = await refusal(guest.request('chat.direct', { userId: neverId, text: 'hello?' }), 'NOT_FOUND', neverId);
  assert.is(hidden, absent, 'online in a hidden channel reads as "no such account"');
  assert.is(offline, absent, 'an offline account reads as "no such account" (no id enumeration)');
  // Nothing reached the admin either: the refused message was not stored or sent.
  const stored = t.server.store.db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM chat_messages WHERE recipient_id = ?').get(adminId)!.n;
  assert.is(stored, 0);
});

test('chat.direct: someone the guest can see is still reachable', async ({ t, guest }) => {
  const member = await loginAs(t, 'visible-member', 'member');
  const gets = member.waitFor((m: ServerMessage) => m.type === 'chat.message');
  const r = await guest.request<{ delivered: boolean }>('chat.direct', { userId: member.state.self!.userId, text: 'hi' });
  assert.is(r.delivered, true);
  await gets;
  member.close();
});

test('chat.direct: for a moderator, an admin online in a hidden channel reads as offline (delivered: false)', async ({ t, mod, adminId }) => {
  const offlineId = await createUser(t, 'sleeper', 'member');
  const toHidden = await mod.request<{ delivered: boolean; message: { recipientId: number } }>('chat.direct', { userId: adminId, text: 'ping' });
  const toOffline = await mod.request<{ delivered: boolean; message: { recipientId: number } }>('chat.direct', { userId: offlineId, text: 'ping' });
  assert.is(toOffline.delivered, false);
  assert.is(toHidden.delivered, false, 'same answer as for an offline account');
  assert.equal(Object.keys(toHidden).sort(), Object.keys(toOffline).sort());
});

test('user.kick, user.serverMute, ban.add by session: a session in a hidden channel is NOT_FOUND, as a session that never was', async ({ mod, adminSid }) => {
  const never = 424242;
  for (const [type, fields] of [
    ['user.kick', { reason: 'x' }],
    ['user.serverMute', { muted: true }],
    ['ban.add', { reason: 'x' }],
  ] as const) {
    const hidden = await refusal(mod.request(type, { sessionId: adminSid, ...fields }), 'NOT_FOUND', adminSid);
    const absent = await refusal(mod.request(type, { sessionId: never, ...fields }), 'NOT_FOUND', never);
    assert.is(hidden, absent, `${type}: hidden session answers as a missing one`);
  }
});

/** Logs in over TLS from a given loopback source address (ControlClient always uses 127.0.0.1). */
async function loginFrom(t: TestServer, localAddress: string, username: string): Promise<{ ping(): Promise<boolean>; close(): void }> {
  const raw = net.connect({ host: '127.0.0.1', port: t.port, localAddress });
  const socket = tls.connect({ socket: raw, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
  const dec = new FrameDecoder(1 << 24);
  const waiting = new Map<number, (m: ServerMessage | null) => void>();
  socket.on('data', (d: Buffer) => {
    for (const f of dec.push(d)) {
      const m = JSON.parse(f.body.toString('utf8')) as ServerMessage;
      if ((m.type === 'reply' || m.type === 'error') && typeof m.id === 'number') waiting.get(m.id)?.(m);
    }
  });
  socket.on('close', () => {
    for (const w of waiting.values()) w(null);
  });
  socket.on('error', () => {});
  let next = 1;
  const request = (type: string, fields: Record<string, unknown>) =>
    new Promise<ServerMessage | null>((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      socket.write(encodeJsonFrame({ type, id, ...fields }));
    });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  const r = await request('login', { username, password: PASSWORD });
  if (r?.type !== 'reply') throw new Error(`login from ${localAddress} failed: ${JSON.stringify(r)}`);
  return {
    // A reply proves the connection is still open: a BANNED disconnect would have closed it first.
    ping: async () => (await request('ping', {}))?.type === 'reply',
    close: () => socket.destroy(),
  };
}

test('ban.add by IP: the answer is the same whether an admin is on that address or nobody is, and the admin stays', async ({ t, mod }) => {
  await createUser(t, 'far-admin', 'admin');
  const farAdmin = await loginFrom(t, '127.0.0.3', 'far-admin');
  try {
    const r1 = await mod.request<{ ban: BanView }>('ban.add', { ip: '127.0.0.3', reason: 'probe' });
    const r2 = await mod.request<{ ban: BanView }>('ban.add', { ip: '127.0.0.4', reason: 'probe' });
    const shape = (b: BanView) => ({ ...b, id: 0, ip: 'X', createdAt: 0 });
    assert.equal(shape(r1.ban), shape(r2.ban), 'same reply with someone protected on the address as with nobody');
    assert.not.match(JSON.stringify(r1), /far-admin/, 'the protected user is not named');
    assert.ok(await farAdmin.ping(), 'the admin on that address was not thrown out by a moderator');
  } finally {
    farAdmin.close();
  }
});

test('channel names: a hidden sibling does not make a name "taken" for someone who cannot see it', async ({ admin, mod, vault }) => {
  const hidden = await refusal(mod.request('channel.create', { parentId: vault.id, name: 'x' }), 'NOT_FOUND', vault.id);
  const absent = await refusal(mod.request('channel.create', { parentId: 31337, name: 'x' }), 'NOT_FOUND', 31337);
  assert.is(hidden, absent, 'a hidden parent answers as a missing one');
  // "Vault" is hidden from the moderator: creating a sibling named "Vault" must work as if it did not exist.
  const r = await mod.request<{ channel: ChannelView }>('channel.create', { parentId: 1, name: 'Vault' });
  assert.is(r.channel.name, 'Vault');
  // The admin, who sees both, is still held to unique names.
  await expectError(admin.request('channel.create', { parentId: 1, name: 'vault' }), 'NAME_TAKEN');
});

test.run();
