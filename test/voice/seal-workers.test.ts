// voice.sealWorkers: fan-outs sealed by a worker thread, sent by the lane's socket.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ControlClient } from '../../host/client/control/control-client.js';
import { VoiceTransport, type ReceivedVoice } from '../../host/client/audio/voice-transport.js';
import type { ChannelView, WelcomeResult } from '../../host/protocol/server-messages.js';
import { deriveVoiceKeys, VoiceCipher } from '../../host/voice/packet.js';
import { connect, createUser, eventually, PASSWORD, sleep, startServer, type TestServer } from '../helpers/server.js';

interface Peer {
  control: ControlClient;
  voice: VoiceTransport;
  welcome: WelcomeResult;
  heard: ReceivedVoice[];
}

async function peer(t: TestServer, name: string, role: 'member' | 'moderator' = 'member'): Promise<Peer> {
  await createUser(t, name, role);
  const control = await connect(t);
  const welcome = await control.login(name, PASSWORD);
  assert.ok(welcome.voice, 'welcome carries voice credentials');
  const voice = await new VoiceTransport(control, welcome.voice!, { udpHost: '127.0.0.1' }).start();
  const heard: ReceivedVoice[] = [];
  voice.on('voice', (v: ReceivedVoice) => heard.push({ ...v, payload: Buffer.from(v.payload) }));
  return { control, voice, welcome, heard };
}

const close = (...ps: Peer[]) => ps.forEach((p) => (p.voice.close(), p.control.close()));
const udpUp = (p: Peer) => eventually(() => p.voice.counters.keepaliveAnswers > 0, 3000, 'keep-alive answered over UDP');
const frame = (i: number) => Buffer.from(`opus-frame-${i}-`.padEnd(120, 'x'));

const test = suite<{ t: TestServer; a: Peer; b: Peer; c: Peer; room: ChannelView; other: ChannelView }>('voice seal workers');

test.before.each(async (ctx) => {
  ctx.t = await startServer({ voice: { sealWorkers: 1, packetBurst: 10_000 } });
  // Every fan-out goes to the worker, however small.
  ctx.t.server.voice.sealWorkerMinListeners = 1;
  ctx.a = await peer(ctx.t, 'alice', 'moderator');
  ctx.b = await peer(ctx.t, 'bob');
  ctx.c = await peer(ctx.t, 'carl');
  ctx.room = (await ctx.a.control.request<{ channel: ChannelView }>('channel.create', { parentId: 1, name: 'Room' })).channel;
  ctx.other = (await ctx.a.control.request<{ channel: ChannelView }>('channel.create', { parentId: 1, name: 'Other' })).channel;
  for (const p of [ctx.a, ctx.b, ctx.c]) await p.control.request('channel.join', { channelId: ctx.room.id });
  await Promise.all([udpUp(ctx.a), udpUp(ctx.b), udpUp(ctx.c)]);
});
test.after.each(async (ctx) => {
  close(ctx.a, ctx.b, ctx.c);
  await ctx.t.stop();
});

test('every listener gets every packet, in order, sealed by the worker', async ({ t, a, b, c }) => {
  const n = 200;
  for (let i = 0; i < n; i++) a.voice.sendVoice(frame(i));
  await eventually(() => b.heard.length === n && c.heard.length === n, 5000, 'all packets delivered');
  const want = [...Array(n).keys()].map((i) => frame(i).toString());
  for (const p of [b, c]) {
    assert.equal(p.heard.map((v) => v.payload.toString()), want, 'payloads in order');
    assert.ok(p.heard.every((v) => v.token === a.voice.token && v.via === 'udp'));
    const first = Number(p.heard[0]!.sequence);
    assert.equal(p.heard.map((v) => Number(v.sequence)), p.heard.map((_, i) => first + i), 'speaker sequence preserved');
  }
  assert.is(a.heard.length, 0, 'the speaker does not hear itself');
  assert.ok(t.server.voice.stats.forwardedSealedByWorker >= 2 * n, 'sealed by the worker');
  // Two speakers at once: each one's packets stay in order.
  b.heard.length = 0;
  c.heard.length = 0;
  for (let i = 0; i < 50; i++) {
    a.voice.sendVoice(frame(1000 + i));
    b.voice.sendVoice(frame(2000 + i));
  }
  await eventually(() => c.heard.length === 100 && b.heard.length === 50 && a.heard.length === 50, 5000, 'both speakers delivered');
  const fromA = c.heard.filter((v) => v.token === a.voice.token).map((v) => v.payload.toString());
  const fromB = c.heard.filter((v) => v.token === b.voice.token).map((v) => v.payload.toString());
  assert.equal(fromA, [...Array(50).keys()].map((i) => frame(1000 + i).toString()));
  assert.equal(fromB, [...Array(50).keys()].map((i) => frame(2000 + i).toString()));
});

test('a listener who leaves the channel, or whose session ends, receives nothing more', async ({ t, a, b, c, room, other }) => {
  a.voice.sendVoice(frame(0));
  await eventually(() => b.heard.length === 1 && c.heard.length === 1, 2000, 'first packet delivered');
  // Packets in flight in the worker while carl leaves must not reach him.
  for (let i = 1; i <= 20; i++) a.voice.sendVoice(frame(i));
  await c.control.request('channel.join', { channelId: other.id });
  const heardByCarl = c.heard.length;
  for (let i = 21; i <= 40; i++) a.voice.sendVoice(frame(i));
  await eventually(() => b.heard.length === 41, 3000, 'bob hears everything');
  await sleep(150);
  assert.is(c.heard.length, heardByCarl, 'carl hears nothing after leaving');
  assert.ok(c.heard.every((v, i) => v.payload.toString() === frame(i).toString()), 'what carl did hear came in order');
  // Bob's session ends: alice's packets reach nobody, and nothing breaks.
  const forwardedBefore = t.server.voice.stats.forwarded;
  b.control.close();
  await eventually(() => t.server.hub.online.length === 2, 2000, 'bob offline');
  const bobHeard = b.heard.length;
  for (let i = 41; i <= 50; i++) a.voice.sendVoice(frame(i));
  await sleep(200);
  assert.is(b.heard.length, bobHeard, 'bob hears nothing after his session ended');
  assert.is(c.heard.length, heardByCarl);
  assert.is(t.server.voice.stats.forwarded, forwardedBefore, 'nothing forwarded to an empty room');
  // Carl comes back and hears again, through the worker.
  await c.control.request('channel.join', { channelId: room.id });
  a.voice.sendVoice(frame(51));
  await eventually(() => c.heard.length === heardByCarl + 1, 2000, 'carl hears again after rejoining');
  assert.is(c.heard.at(-1)!.payload.toString(), frame(51).toString());
});

test('a listener moved out while its packets are still in the worker gets none of them', async ({ t, a, b, c, other }) => {
  // Alice's genuine datagrams handed to the lane directly, and carl moved out
  // in the same tick: every fan-out is still in the worker when he leaves.
  const seal = new VoiceCipher(deriveVoiceKeys(Buffer.from(a.welcome.voice!.secret, 'base64')).clientToServer);
  const carl = t.server.hub.session(c.welcome.self.sessionId)!;
  for (let i = 0; i < 20; i++) t.server.voice.onDatagram(seal.seal(a.voice.token, 1_000_000 + i, i, frame(i)), null, 0);
  t.server.hub.moveTo(carl, other.id);
  await eventually(() => b.heard.length === 20, 3000, 'bob hears all of them');
  assert.equal(b.heard.map((v) => v.payload.toString()), [...Array(20).keys()].map((i) => frame(i).toString()));
  await sleep(150);
  assert.is(c.heard.length, 0, 'carl hears none of them');
});

test.run();
