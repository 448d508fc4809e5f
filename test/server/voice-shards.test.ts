// voice.shards = 2 (host/server/voice/shard-pool.ts): sessions spread over
// two worker threads, each with its own UDP port. Real TLS server, real UDP
// sockets on 127.0.0.1. Nothing here is timed: where something must NOT
// arrive, a later packet from the same speaker that must arrive is the
// witness (a speaker's packets leave each shard in order), and
// `shards.sync()` waits until every shard has handled what main told it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { VoiceTransport, type ReceivedVoice } from '../../host/client/audio/voice-transport.js';
import type { ChannelView } from '../../host/protocol/server-messages.js';
import type { ShardPool } from '../../host/server/voice/shard-pool.js';
import { connect, createUser, eventually, PASSWORD, startServer, type TestServer } from '../helpers/server.js';
import { RawVoiceClient } from '../voice/raw-voice-client.js';

const ROOT = 1;
const frame = (tag: string) => Buffer.from(`opus-${tag}-`.padEnd(100, 'x'));

/** Opens what a raw client was relayed: [speaker token, sequence, payload text]. */
function heard(c: RawVoiceClient): { token: number; sequence: number; text: string }[] {
  return c.relayed.map((m) => {
    const p = c.recv.open(m);
    if (p === null) throw new Error('a relayed datagram did not authenticate');
    return { token: p.token, sequence: Number(p.sequence), text: p.payload.toString().replace(/-x+$/, '') };
  });
}
const texts = (c: RawVoiceClient, from?: RawVoiceClient) => heard(c).filter((h) => from === undefined || h.token === from.token).map((h) => h.text);

const test = suite<{ t: TestServer; a: RawVoiceClient; b: RawVoiceClient; shards: ShardPool; extra: { close(): void }[] }>('voice shards');

test.before.each(async (ctx) => {
  ctx.t = await startServer({ voice: { shards: 2 } });
  ctx.shards = ctx.t.server.voice.shards!;
  await createUser(ctx.t, 'alice', 'moderator');
  // Assigned to the shard with the fewest sessions: alice to shard 0, bob to shard 1.
  ctx.a = await RawVoiceClient.connect(ctx.t, 'alice');
  ctx.b = await RawVoiceClient.connect(ctx.t, 'bob');
  ctx.extra = [];
  await Promise.all([ctx.a.establish(), ctx.b.establish()]);
});
test.after.each(async (ctx) => {
  for (const c of [ctx.a, ctx.b, ...ctx.extra]) c.close();
  await ctx.t.stop();
});

test('two sessions on different shards (different UDP ports) hear each other, in order, byte for byte', async ({ t, a, b, shards }) => {
  assert.ok(shards, 'the lane is sharded');
  assert.is.not(a.serverPort, b.serverPort, 'login replies give different udpPorts');
  assert.equal([...t.server.voice.stats.shards!.ports].sort(), [a.serverPort, b.serverPort].sort());
  assert.is(t.server.voice.port, shards.port(0));
  for (let i = 0; i < 50; i++) a.voice(frame(`a${i}`));
  for (let i = 0; i < 10; i++) b.voice(frame(`b${i}`));
  await eventually(() => b.relayed.length === 50 && a.relayed.length === 10, 3000, 'voice across shards');
  const toB = heard(b);
  assert.ok(toB.every((h) => h.token === a.token), 'speaker token kept');
  assert.equal(toB.map((h) => h.text), [...Array(50).keys()].map((i) => `opus-a${i}`), 'in order, every packet');
  assert.equal(toB.map((h) => h.sequence), toB.map((_, i) => toB[0]!.sequence + i), 'speaker sequence kept');
  assert.equal(texts(a, b), [...Array(10).keys()].map((i) => `opus-b${i}`));
  // Stats are the sum over the shards.
  const stats = t.server.voice.stats;
  await eventually(() => stats.forwarded >= 60 && stats.shards!.relayed >= 60 && stats.shards!.relayedIn >= 60, 3000, 'summed stats');
  assert.is(stats.dropped.replayed, 0);
  assert.is(stats.shards!.ringFull, 0);
});

test('a replayed datagram is not forwarded twice (replay window on the speaker\'s shard)', async ({ t, a, b }) => {
  const stats = t.server.voice.stats;
  const replayedBefore = stats.dropped.replayed;
  const d = a.send.seal(a.token, a.sequence++, 1, frame('once'));
  const send = (buf: Buffer) => new Promise<void>((r) => a.socket.send(buf, a.serverPort, '127.0.0.1', () => r()));
  await send(d);
  await send(d);
  // Sent to the other shard's port too: it does not know alice's token at all.
  await new Promise<void>((r) => a.socket.send(d, b.serverPort, '127.0.0.1', () => r()));
  a.voice(frame('after'));
  await eventually(() => texts(b).includes('opus-after'), 3000, 'the witness arrived');
  assert.equal(texts(b), ['opus-once', 'opus-after'], 'the copy was not forwarded');
  await eventually(() => stats.dropped.replayed > replayedBefore && stats.dropped.unknownToken > 0, 3000, 'replay and foreign token counted');
});

test('a listener on the TLS fallback on another shard still hears; its voice over TLS reaches both shards', async ({ t, a, b, extra }) => {
  // Its UDP goes to a socket that never answers: the server has no UDP path for it, the client falls back to TLS.
  const hole = dgram.createSocket('udp4');
  await new Promise<void>((r) => hole.bind(0, '127.0.0.1', r));
  extra.push({ close: () => hole.close() });
  if (!t.server.store.users.findByName('carl')) await createUser(t, 'carl');
  const control = await connect(t);
  const welcome = await control.login('carl', PASSWORD);
  const c = await new VoiceTransport(control, welcome.voice!, { udpHost: '127.0.0.1', udpPort: hole.address().port, fallbackAfterMs: 200 }).start();
  extra.push({ close: () => (c.close(), control.close()) });
  const cHeard: ReceivedVoice[] = [];
  c.on('voice', (v: ReceivedVoice) => cHeard.push({ ...v, payload: Buffer.from(v.payload) }));
  // Shards hold one session each: carl goes to shard 0 (alice's), so bob's voice reaches him through the ring.
  assert.is(welcome.voice!.udpPort, a.serverPort);
  assert.is.not(welcome.voice!.udpPort, b.serverPort);
  for (let i = 0; i < 5; i++) b.voice(frame(`b${i}`));
  await eventually(() => cHeard.length === 5, 3000, 'bob heard over TLS');
  assert.ok(cHeard.every((v) => v.via === 'tcp' && v.token === b.token));
  assert.equal(cHeard.map((v) => v.payload.toString().replace(/-x+$/, '')), [...Array(5).keys()].map((i) => `opus-b${i}`));
  // Carl talks over TLS once his client has given up on UDP.
  await eventually(() => c.mode === 'tcp', 3000, 'carl on the TLS fallback');
  for (let i = 0; i < 3; i++) c.sendVoice(frame(`c${i}`));
  await eventually(() => texts(a, undefined).filter((x) => x.startsWith('opus-c')).length === 3 && texts(b).filter((x) => x.startsWith('opus-c')).length === 3, 3000, 'carl heard on both shards');
  assert.equal(heard(b).filter((h) => h.token === c.token).map((h) => h.text), ['opus-c0', 'opus-c1', 'opus-c2']);
  const stats = t.server.voice.stats;
  await eventually(() => stats.forwardedTcp >= 5 && stats.shards!.tlsFrames >= 5, 3000, 'TLS copies counted');
});

test('leaving the channel, muting and the session ending stop forwarding across shards', async ({ t, a, b, shards }) => {
  const { channel: other } = await a.control.request<{ channel: ChannelView }>('channel.create', { parentId: ROOT, name: 'Other' });
  await b.control.request('channel.join', { channelId: other.id });
  await shards.sync();
  a.voice(frame('while-away'));
  await b.control.request('channel.join', { channelId: ROOT });
  await shards.sync();
  a.voice(frame('back'));
  await eventually(() => texts(b).includes('opus-back'), 3000, 'heard again after coming back');
  assert.equal(texts(b), ['opus-back'], 'nothing while in another channel');

  await a.control.request('presence.set', { selfMute: true });
  await shards.sync();
  a.voice(frame('muted'));
  await a.control.request('presence.set', { selfMute: false });
  await shards.sync();
  a.voice(frame('unmuted'));
  await eventually(() => texts(b).includes('opus-unmuted'), 3000, 'heard after unmuting');
  assert.equal(texts(b), ['opus-back', 'opus-unmuted'], 'nothing while muted');
  const stats = t.server.voice.stats;
  await eventually(() => stats.dropped.muted >= 1, 3000, 'muted packet counted');

  // Bob's session ends: his shard forgets his token, alice's shard stops handing packets over.
  const unknownBefore = stats.dropped.unknownToken;
  b.control.close();
  await eventually(() => t.server.hub.online.length === 1, 3000, 'bob offline');
  await shards.sync();
  b.voice(frame('ghost'));
  await eventually(() => stats.dropped.unknownToken > unknownBefore, 3000, "bob's token refused by his shard");
  const relayed = stats.shards!.relayed;
  const authenticated = stats.authenticated;
  a.voice(frame('alone'));
  await eventually(() => stats.authenticated > authenticated, 3000, "alice's packet counted");
  assert.is(stats.shards!.relayed, relayed, 'nothing handed to a shard without listeners');
});

test('a shard that dies: its sessions are disconnected with INTERNAL, it is started again, new sessions talk', async ({ t, a, b, shards, extra }) => {
  const closed = new Promise((resolve) => b.control.once('close', resolve));
  await shards.crash(1);
  await closed;
  assert.is(b.control.disconnectReason?.code, 'INTERNAL');
  assert.not.ok(a.control.closed, 'the other shard\'s sessions stay');
  const stats = t.server.voice.stats;
  await eventually(() => stats.shards!.restarts === 1 && stats.shards!.ready === 2, 5000, 'shard 1 running again');
  const c = await RawVoiceClient.connect(t, 'carl');
  extra.push(c);
  assert.is(c.serverPort, shards.port(1), 'the new session goes to the restarted shard (fewest sessions)');
  await c.establish();
  for (let i = 0; i < 5; i++) a.voice(frame(`a${i}`));
  for (let i = 0; i < 3; i++) c.voice(frame(`c${i}`));
  await eventually(() => c.relayed.length === 5 && a.relayed.length === 3, 3000, 'voice after the restart');
  assert.equal(texts(c), [...Array(5).keys()].map((i) => `opus-a${i}`));
});

test('close terminates every shard thread and frees their ports; a second stop is harmless', async ({ t, a, b, shards }) => {
  const ports = [a.serverPort, b.serverPort];
  assert.is(shards.running, 2);
  await t.server.stop();
  assert.is(shards.running, 0, 'no shard thread left');
  assert.is(t.server.voice.stats.shards!.running, 0);
  await t.server.voice.stop();
  for (const port of ports) {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, '127.0.0.1', () => resolve());
    });
    s.close();
  }
});

test.run();
