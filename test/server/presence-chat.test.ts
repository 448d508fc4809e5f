import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ControlClient } from '../../host/client/control/control-client.js';
import type { ChannelView, ChatMessageView, ServerMessage } from '../../host/protocol/server-messages.js';
import { connect, createUser, eventually, expectError, loginAs, PASSWORD, sleep, startServer, type TestServer } from '../helpers/server.js';

const test = suite<{ t: TestServer; a: ControlClient; b: ControlClient; c: ControlClient; room: ChannelView; other: ChannelView }>('presence and chat');

test.before.each(async (ctx) => {
  ctx.t = await startServer({ limits: { chatMaxChars: 100, historyOnJoin: 5, historyKeepPerChannel: 8, chatMessagesPerWindow: 30, chatWindowMs: 60_000 } });
  ctx.a = await loginAs(ctx.t, 'anna', 'moderator');
  ctx.b = await loginAs(ctx.t, 'ben');
  ctx.c = await loginAs(ctx.t, 'cleo');
  ctx.room = (await ctx.a.request<{ channel: ChannelView }>('channel.create', { parentId: 1, name: 'Room' })).channel;
  ctx.other = (await ctx.a.request<{ channel: ChannelView }>('channel.create', { parentId: 1, name: 'Other' })).channel;
});
test.after.each(async (ctx) => {
  for (const x of [ctx.a, ctx.b, ctx.c]) x.close();
  await ctx.t.stop();
});

const me = (c: ControlClient) => c.state.self!.sessionId;

test('everyone sees who is online and where; joins and leaves are pushed', async ({ t, a, b, c, room }) => {
  for (const x of [a, b, c]) assert.is(x.state.users.size, 3, 'three users online');
  await b.request('channel.join', { channelId: room.id });
  await eventually(() => a.state.users.get(me(b))?.channelId === room.id, 2000, 'a sees b in Room');
  await eventually(() => c.state.users.get(me(b))?.channelId === room.id, 2000, 'c sees b in Room');
  const bSession = me(b);
  b.close();
  await eventually(() => !a.state.users.has(bSession) && !c.state.users.has(bSession), 2000, 'b gone for everyone');
  assert.is(t.server.hub.online.length, 2);
});

test('self-mute and self-deafen are pushed; deafen implies mute', async ({ a, b }) => {
  await b.request('presence.set', { selfMute: true });
  await eventually(() => a.state.users.get(me(b))?.selfMute === true, 2000, 'mute seen');
  assert.is(a.state.users.get(me(b))!.selfDeaf, false);
  await b.request('presence.set', { selfDeaf: true });
  await eventually(() => a.state.users.get(me(b))?.selfDeaf === true, 2000, 'deafen seen');
  await b.request('presence.set', { selfMute: false });
  await eventually(() => a.state.users.get(me(b))?.selfMute === false && a.state.users.get(me(b))?.selfDeaf === false, 2000, 'unmute undeafens');
  await expectError(b.request('presence.set', { selfMute: 'yes' }), 'INVALID_MESSAGE');
});

test('channel chat reaches the channel only; the sender gets an echo', async ({ a, b, c, room }) => {
  await a.request('channel.join', { channelId: room.id });
  await b.request('channel.join', { channelId: room.id });
  const got: ServerMessage[] = [];
  c.on('chat.message', (m: ServerMessage) => got.push(m));
  const bGets = b.waitFor((m) => m.type === 'chat.message');
  const aGets = a.waitFor((m) => m.type === 'chat.message');
  const r = await a.request<{ message: ChatMessageView }>('chat.send', { channelId: room.id, text: '  hello room  ' });
  assert.is(r.message.text, 'hello room');
  const mb = (await bGets) as Extract<ServerMessage, { type: 'chat.message' }>;
  assert.is(mb.message.text, 'hello room');
  assert.is(mb.message.senderName, 'anna');
  assert.is(mb.message.channelId, room.id);
  await aGets;
  await sleep(100);
  assert.is(got.length, 0, 'cleo (in root) heard nothing');
});

test('direct messages reach the recipient (and the sender), nobody else', async ({ t, a, b, c }) => {
  const bId = t.server.store.users.findByName('ben')!.id;
  const got: ServerMessage[] = [];
  c.on('chat.message', (m: ServerMessage) => got.push(m));
  const bGets = b.waitFor((m) => m.type === 'chat.message');
  const r = await a.request<{ delivered: boolean }>('chat.direct', { userId: bId, text: 'psst' });
  assert.ok(r.delivered);
  const m = (await bGets) as Extract<ServerMessage, { type: 'chat.message' }>;
  assert.is(m.message.recipientId, bId);
  assert.is(m.message.channelId, null);
  await sleep(100);
  assert.is(got.length, 0);
  await expectError(a.request('chat.direct', { userId: 9999, text: 'x' }), 'NOT_FOUND');
});

test('length limit, empty text and chat rate limit', async ({ t, b, room }) => {
  await expectError(b.request('chat.send', { channelId: room.id, text: 'x'.repeat(101) }), 'TOO_LONG');
  await expectError(b.request('chat.send', { channelId: room.id, text: '   ' }), 'INVALID_MESSAGE');
  await expectError(b.request('chat.send', { channelId: room.id, text: '' }), 'INVALID_MESSAGE');
  await expectError(b.request('chat.send', { channelId: 4242, text: 'hi' }), 'NOT_FOUND');
  let limited = 0;
  for (let i = 0; i < 40; i++) {
    try {
      await b.request('chat.send', { channelId: room.id, text: `spam ${i}` });
    } catch (err) {
      if ((err as { code?: string }).code === 'RATE_LIMITED') limited++;
      else throw err;
    }
  }
  assert.ok(limited >= 5, `chat rate limit engaged (${limited} refused)`);
  // Reconnecting does not refill the bucket: it belongs to the account.
  b.close();
  const again = await connect(t);
  await again.login('ben', PASSWORD);
  await expectError(again.request('chat.send', { channelId: room.id, text: 'fresh start?' }), 'RATE_LIMITED');
  again.close();
  const stored = t.server.store.db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM chat_messages WHERE channel_id = ?').get(room.id)!.n;
  assert.ok(stored <= 8, `history pruned to the per-channel bound (${stored})`);
});

test('joining a channel sends its recent history, oldest first, bounded', async ({ a, c, room }) => {
  for (let i = 1; i <= 7; i++) await a.request('chat.send', { channelId: room.id, text: `m${i}` });
  const hist = c.waitFor((m) => m.type === 'chat.history');
  await c.request('channel.join', { channelId: room.id });
  const h = (await hist) as Extract<ServerMessage, { type: 'chat.history' }>;
  assert.is(h.channelId, room.id);
  assert.equal(h.messages.map((m) => m.text), ['m3', 'm4', 'm5', 'm6', 'm7']);
  const older = await c.request<{ messages: ChatMessageView[] }>('chat.history', { channelId: room.id, beforeId: h.messages[0]!.id, limit: 10 });
  assert.equal(older.messages.map((m) => m.text), ['m1', 'm2']);
});

test('a new login sees root history right after its welcome', async ({ t, a }) => {
  await a.request('chat.send', { channelId: 1, text: 'welcome all' });
  await createUser(t, 'dora');
  const d = await connect(t);
  const hist = d.waitFor((m) => m.type === 'chat.history');
  await d.login('dora', PASSWORD);
  const h = (await hist) as Extract<ServerMessage, { type: 'chat.history' }>;
  assert.is(h.channelId, 1);
  assert.ok(h.messages.some((m) => m.text === 'welcome all'));
  d.close();
});

test('a second login of the same account replaces the first session', async ({ t, b }) => {
  const b2 = await connect(t);
  const closed = b.waitClose();
  await b2.login('ben', PASSWORD);
  const reason = await closed;
  assert.is(reason?.code, 'SESSION_REPLACED');
  assert.is(t.server.hub.sessionsOfUser(t.server.store.users.findByName('ben')!.id).length, 1);
  b2.close();
});

test.run();
