import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import type { ControlClient } from '../../host/client/control/control-client.js';
import { VoiceTransport, type ReceivedVoice } from '../../host/client/audio/voice-transport.js';
import type { ChannelView, WelcomeResult } from '../../host/protocol/server-messages.js';
import { deriveVoiceKeys, VoiceCipher } from '../../host/voice/packet.js';
import { connect, createUser, eventually, PASSWORD, sleep, startServer, type TestServer } from '../helpers/server.js';
import { UdpRelay } from '../helpers/udp-relay.js';

interface Peer {
  control: ControlClient;
  voice: VoiceTransport;
  welcome: WelcomeResult;
  heard: ReceivedVoice[];
}

async function peer(t: TestServer, name: string, role: 'member' | 'moderator' = 'member', opts: { udpPort?: number; fallbackAfterMs?: number } = {}): Promise<Peer> {
  if (!t.server.store.users.findByName(name)) await createUser(t, name, role);
  const control = await connect(t);
  const welcome = await control.login(name, PASSWORD);
  assert.ok(welcome.voice, 'welcome carries voice credentials');
  const voice = await new VoiceTransport(control, welcome.voice!, { udpHost: '127.0.0.1', ...opts }).start();
  const heard: ReceivedVoice[] = [];
  voice.on('voice', (v: ReceivedVoice) => heard.push({ ...v, payload: Buffer.from(v.payload) }));
  return { control, voice, welcome, heard };
}

const close = (...ps: Peer[]) => ps.forEach((p) => (p.voice.close(), p.control.close()));
const udpUp = (p: Peer) => eventually(() => p.voice.counters.keepaliveAnswers > 0, 3000, 'keep-alive answered over UDP');

const test = suite<{ t: TestServer; a: Peer; b: Peer; c: Peer; room: ChannelView; other: ChannelView }>('voice lane');

test.before.each(async (ctx) => {
  ctx.t = await startServer();
  ctx.a = await peer(ctx.t, 'alice', 'moderator');
  ctx.b = await peer(ctx.t, 'bob');
  ctx.c = await peer(ctx.t, 'carl');
  ctx.room = (await ctx.a.control.request<{ channel: ChannelView }>('channel.create', { parentId: 1, name: 'Room' })).channel;
  ctx.other = (await ctx.a.control.request<{ channel: ChannelView }>('channel.create', { parentId: 1, name: 'Other' })).channel;
  await ctx.a.control.request('channel.join', { channelId: ctx.room.id });
  await ctx.b.control.request('channel.join', { channelId: ctx.room.id });
  await ctx.c.control.request('channel.join', { channelId: ctx.other.id });
  await Promise.all([udpUp(ctx.a), udpUp(ctx.b), udpUp(ctx.c)]);
});
test.after.each(async (ctx) => {
  close(ctx.a, ctx.b, ctx.c);
  await ctx.t.stop();
});

const frame = (i: number) => Buffer.from(`opus-frame-${i}-`.padEnd(120, 'x'));

test('two in a channel hear each other with the speaker token; another channel hears nothing', async ({ a, b, c }) => {
  for (let i = 0; i < 10; i++) a.voice.sendVoice(frame(i));
  for (let i = 0; i < 5; i++) b.voice.sendVoice(frame(100 + i));
  await eventually(() => b.heard.length === 10 && a.heard.length === 5, 2000, 'voice delivered');
  assert.ok(b.heard.every((v) => v.token === a.voice.token && v.via === 'udp'));
  assert.equal(b.heard.map((v) => v.payload.toString()), [...Array(10).keys()].map((i) => frame(i).toString()));
  assert.equal(b.heard.map((v) => Number(v.sequence)), b.heard.map((_, i) => Number(b.heard[0]!.sequence) + i), 'speaker sequence preserved');
  assert.is(b.heard[1]!.timestamp - b.heard[0]!.timestamp, 960n, 'speaker timestamp preserved');
  assert.ok(a.heard.every((v) => v.token === b.voice.token));
  await sleep(100);
  assert.is(c.heard.length, 0, 'other channel hears nothing');
  // tokens are published in presence so listeners can name the speaker
  assert.is(b.control.state.users.get(a.welcome.self.sessionId)?.voiceToken, a.voice.token);
});

test('deafened listeners hear nothing; muted speakers are not forwarded', async ({ t, a, b }) => {
  await b.control.request('presence.set', { selfDeaf: true });
  a.voice.sendVoice(frame(1));
  await sleep(150);
  assert.is(b.heard.length, 0, 'deafened hears nothing');
  await b.control.request('presence.set', { selfDeaf: false, selfMute: false });
  await a.control.request('presence.set', { selfMute: true });
  const mutedBefore = t.server.voice.stats.dropped.muted;
  a.voice.sendVoice(frame(2));
  await eventually(() => t.server.voice.stats.dropped.muted > mutedBefore, 2000, 'muted packet counted');
  assert.is(b.heard.length, 0, 'self-muted speaker not forwarded');
  await a.control.request('presence.set', { selfMute: false });
  // server mute (moderator action) on bob
  await a.control.request('user.serverMute', { sessionId: b.welcome.self.sessionId, muted: true });
  await eventually(() => a.control.state.users.get(b.welcome.self.sessionId)?.serverMute === true, 2000, 'server mute published');
  b.voice.sendVoice(frame(3));
  await sleep(150);
  assert.is(a.heard.length, 0, 'server-muted speaker not forwarded');
  await a.control.request('user.serverMute', { sessionId: b.welcome.self.sessionId, muted: false });
  b.voice.sendVoice(frame(4));
  await eventually(() => a.heard.length === 1, 2000, 'unmuted speaker heard again');
  // members may not server-mute
  await b.control.request('user.serverMute', { sessionId: a.welcome.self.sessionId, muted: true }).then(
    () => assert.unreachable('member muted someone'),
    (e: { code?: string }) => assert.is(e.code, 'FORBIDDEN'),
  );
});

test('leaving the channel or the session ending stops forwarding at once', async ({ t, a, b, other }) => {
  await b.control.request('channel.join', { channelId: other.id });
  a.voice.sendVoice(frame(1));
  await sleep(120);
  assert.is(b.heard.length, 0);
  const unknownBefore = t.server.voice.stats.dropped.unknownToken;
  b.control.close();
  await eventually(() => t.server.hub.online.length === 2, 2000, 'b offline');
  b.voice.sendVoice(frame(2));
  await eventually(() => t.server.voice.stats.dropped.unknownToken > unknownBefore, 2000, 'dead session token refused');
});

test('forged, replayed, truncated, garbage and unknown-token datagrams are dropped and counted; legit traffic flows; nothing answers', async ({ t, a, b }) => {
  const port = t.server.voice.port;
  const spy = dgram.createSocket('udp4');
  const answers: Buffer[] = [];
  spy.on('message', (m) => answers.push(m));
  await new Promise<void>((r) => spy.bind(0, '127.0.0.1', r));
  const send = (buf: Buffer) => new Promise<void>((r) => spy.send(buf, port, '127.0.0.1', () => r()));
  const s = t.server.voice.stats.dropped;
  const before = { ...s };
  // capture a genuine datagram of alice by encrypting with her keys (as her client would)
  const keys = deriveVoiceKeys(Buffer.from(a.welcome.voice!.secret, 'base64'));
  const genuine = new VoiceCipher(keys.clientToServer).seal(a.voice.token, 200, 1, frame(9));
  await send(genuine);
  await eventually(() => b.heard.length === 1, 2000, 'genuine packet forwarded');
  await send(genuine); // replay
  // A fresh sequence: a copy of a seen one is dropped as replayed before any crypto.
  const forged = new VoiceCipher(keys.clientToServer).seal(a.voice.token, 202, 1, frame(9));
  forged[forged.length - 1]! ^= 1;
  await send(forged);
  const wrongKey = new VoiceCipher(Buffer.alloc(32, 7)).seal(a.voice.token, 201, 1, frame(9));
  await send(wrongKey);
  await send(genuine.subarray(0, 30)); // truncated
  await send(Buffer.from('complete garbage that is long enough to pass the size check'));
  const unknown = Buffer.from(genuine);
  unknown.writeUInt32BE(12345, 0);
  await send(unknown);
  await send(Buffer.alloc(2000)); // oversize
  await eventually(() => s.replayed > before.replayed && s.forged >= before.forged + 2 && s.truncated > before.truncated && s.unknownToken >= before.unknownToken + 1 && s.oversize > before.oversize, 2000, 'drops counted');
  // garbage starting with an unknown token or a known one
  assert.ok(s.forged + s.unknownToken >= before.forged + before.unknownToken + 4);
  for (let i = 0; i < 5; i++) a.voice.sendVoice(frame(i));
  await eventually(() => b.heard.length === 6, 2000, 'legit traffic keeps flowing');
  await sleep(100);
  spy.close();
  // Voice is never answered, and nothing unauthenticated is either. The one
  // thing the spy may get: the genuine packet (newest, from an address that is
  // not alice's) earns its address one 36-byte path challenge, no bigger than
  // what it sent (docs/PROTOCOL.md 12.6); the spy cannot answer it.
  assert.ok(answers.length <= 1, `at most one challenge (${answers.length})`);
  assert.ok(answers.every((m) => m.length === 36 && m[4] === 0x81), 'only a path challenge');
});

test.run();
