import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ControlClient } from '../../host/client/control/control-client.js';
import type { ChannelView } from '../../host/protocol/server-messages.js';
import { eventually, expectError, loginAs, startServer, type TestServer } from '../helpers/server.js';

const test = suite<{ t: TestServer; admin: ControlClient; mod: ControlClient; member: ControlClient }>('channels');

test.before.each(async (ctx) => {
  ctx.t = await startServer();
  ctx.admin = await loginAs(ctx.t, 'admin', 'admin');
  ctx.mod = await loginAs(ctx.t, 'mod', 'moderator');
  ctx.member = await loginAs(ctx.t, 'member', 'member');
});
test.after.each(async (ctx) => {
  for (const c of [ctx.admin, ctx.mod, ctx.member]) c.close();
  await ctx.t.stop();
});

const create = async (c: ControlClient, parentId: number, name: string, extra: Record<string, unknown> = {}) =>
  (await c.request<{ channel: ChannelView }>('channel.create', { parentId, name, ...extra })).channel;

test('create nested channels; everyone sees them; members may not create', async ({ mod, member }) => {
  const games = await create(mod, 1, 'Games', { description: 'play' });
  const chess = await create(mod, games.id, 'Chess', { isVoice: false });
  assert.is(chess.parentId, games.id);
  assert.is(chess.isVoice, false);
  await eventually(() => member.state.channels.get(chess.id), 2000, 'member sees the new channel');
  await expectError(create(member, 1, 'Nope'), 'FORBIDDEN');
  await expectError(create(mod, 999, 'Orphan'), 'NOT_FOUND');
  await expectError(create(mod, games.id, 'chess'), 'NAME_TAKEN');
  await expectError(create(mod, 1, ''), 'INVALID_MESSAGE');
});

test('rename and describe; sibling name clash refused', async ({ t, mod, member }) => {
  const a = await create(mod, 1, 'A');
  await create(mod, 1, 'B');
  const r = await mod.request<{ channel: ChannelView }>('channel.edit', { channelId: a.id, name: 'Alpha', description: 'first' });
  assert.is(r.channel.name, 'Alpha');
  await eventually(() => member.state.channels.get(a.id)?.name === 'Alpha', 2000, 'rename pushed');
  await expectError(mod.request('channel.edit', { channelId: a.id, name: 'b' }), 'NAME_TAKEN');
  assert.is(t.server.store.channels.all().find((c) => c.id === a.id)!.description, 'first');
});

test('move re-parents; moving under itself or a descendant is a cycle and refused', async ({ t, mod }) => {
  const a = await create(mod, 1, 'A');
  const b = await create(mod, a.id, 'B');
  const c = await create(mod, b.id, 'C');
  await expectError(mod.request('channel.move', { channelId: a.id, parentId: c.id }), 'CHANNEL_CYCLE');
  await expectError(mod.request('channel.move', { channelId: a.id, parentId: a.id }), 'CHANNEL_CYCLE');
  await expectError(mod.request('channel.move', { channelId: 1, parentId: a.id }), 'CHANNEL_ROOT');
  await mod.request('channel.move', { channelId: c.id, parentId: 1 });
  const rows = t.server.store.channels.all();
  assert.is(rows.find((x) => x.id === c.id)!.parentId, 1);
  assert.is(rows.find((x) => x.id === a.id)!.parentId, 1, 'the refused move changed nothing');
});

test('reorder siblings by position', async ({ t, mod, member }) => {
  const x = await create(mod, 1, 'X');
  const y = await create(mod, 1, 'Y');
  const z = await create(mod, 1, 'Z');
  const order = () => t.server.hub.tree.childrenOf(1).map((c) => c.name);
  assert.equal(order(), ['X', 'Y', 'Z']);
  await mod.request('channel.move', { channelId: z.id, parentId: 1, position: 0 });
  assert.equal(order(), ['Z', 'X', 'Y']);
  await mod.request('channel.move', { channelId: x.id, parentId: 1, position: 99 });
  assert.equal(order(), ['Z', 'Y', 'X']);
  await eventually(() => member.state.channels.get(x.id)?.position === 2 && member.state.channels.get(z.id)?.position === 0, 2000, 'positions pushed');
  void y;
});

test('delete removes the subtree; users inside move to the parent; root cannot be deleted', async ({ t, mod, member }) => {
  const a = await create(mod, 1, 'A');
  const b = await create(mod, a.id, 'B');
  const c = await create(mod, b.id, 'C');
  await member.request('channel.join', { channelId: c.id });
  await member.request('chat.send', { channelId: c.id, text: 'in C' });
  const r = await mod.request<{ deleted: number[] }>('channel.delete', { channelId: b.id });
  assert.equal(r.deleted.sort(), [b.id, c.id].sort());
  const ids = t.server.store.channels.all().map((x) => x.id);
  assert.ok(ids.includes(a.id) && !ids.includes(b.id) && !ids.includes(c.id));
  await eventually(() => member.state.self && member.state.users.get(member.state.self.sessionId)?.channelId === a.id, 2000, 'member moved to A');
  assert.not.ok(member.state.channels.has(c.id), 'client no longer lists C');
  const left = t.server.store.db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM chat_messages WHERE channel_id = ?').get(c.id)!.n;
  assert.is(left, 0, 'chat of deleted channels is gone');
  await expectError(mod.request('channel.delete', { channelId: 1 }), 'CHANNEL_ROOT');
  await expectError(member.request('channel.delete', { channelId: a.id }), 'FORBIDDEN');
});

test('required_role gates visibility and join, inherited down the tree', async ({ t, admin, mod, member }) => {
  const staff = await create(admin, 1, 'Staff', { requiredRole: 'moderator' });
  const inner = await create(admin, staff.id, 'Inner');
  assert.ok(mod.state.channels.has(staff.id) || (await eventually(() => mod.state.channels.has(staff.id), 2000, 'mod sees Staff')));
  await eventually(() => mod.state.channels.has(inner.id), 2000, 'mod sees Inner');
  assert.not.ok(member.state.channels.has(staff.id), 'member does not see Staff');
  assert.not.ok(member.state.channels.has(inner.id), 'member does not see Inner (inherited)');
  await expectError(member.request('channel.join', { channelId: staff.id }), 'NOT_FOUND');
  await expectError(member.request('channel.join', { channelId: inner.id }), 'NOT_FOUND');
  await expectError(member.request('chat.send', { channelId: inner.id, text: 'hi' }), 'NOT_FOUND');
  await mod.request('channel.join', { channelId: inner.id });
  // presence of someone in a hidden channel is not shown to the member
  await eventually(() => !member.state.users.has(mod.state.self!.sessionId), 2000, 'mod hidden from member');
  // raising a channel's role moves members out of it
  const lobby = await create(admin, 1, 'Lobby');
  await member.request('channel.join', { channelId: lobby.id });
  await admin.request('channel.edit', { channelId: lobby.id, requiredRole: 'admin' });
  await eventually(() => member.state.users.get(member.state.self!.sessionId)?.channelId === 1, 2000, 'member relocated to root');
  assert.not.ok(member.state.channels.has(lobby.id));
  await expectError(admin.request('channel.edit', { channelId: 1, requiredRole: 'member' }), 'CHANNEL_ROOT');
  void t;
});

test('role change by an admin changes what a user sees', async ({ t, admin, member }) => {
  const staff = await create(admin, 1, 'Staff', { requiredRole: 'moderator' });
  const memberId = t.server.store.users.findByName('member')!.id;
  await expectError(member.request('user.setRole', { userId: memberId, role: 'admin' }), 'FORBIDDEN');
  await admin.request('user.setRole', { userId: memberId, role: 'moderator' });
  await eventually(() => member.state.channels.has(staff.id), 2000, 'promoted member sees Staff');
  assert.is(member.state.self!.role, 'moderator');
  assert.is(t.server.store.users.findById(memberId)!.role, 'moderator');
  await admin.request('user.setRole', { userId: memberId, role: 'guest' });
  await eventually(() => !member.state.channels.has(staff.id), 2000, 'demoted user loses Staff');
  const adminId = t.server.store.users.findByName('admin')!.id;
  await expectError(admin.request('user.setRole', { userId: adminId, role: 'member' }), 'FORBIDDEN');
});

test.run();
