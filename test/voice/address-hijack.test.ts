// Issue 10, attack 4: a session's UDP address must not move to whoever sends
// one of its genuine packets. An on-path relay sits between bob and the
// server; the attacker withholds bob's packets there and sends them to the
// server from its own address (127.0.0.2). The server may take them as input
// (they are bob's words, once), but voice must keep going to bob, and the
// attacker may get nothing but 36-byte path challenges it cannot answer
// (docs/PROTOCOL.md 12.6). Real server, real UDP on 127.0.0.x.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { VoiceTransport, type ReceivedVoice } from '../../host/client/audio/voice-transport.js';
import type { ControlClient } from '../../host/client/control/control-client.js';
import type { WelcomeResult } from '../../host/protocol/server-messages.js';
import { deriveVoiceKeys, VoiceCipher } from '../../host/voice/packet.js';
import { sealPathChallenge, sealPathResponse } from '../../host/voice/path-packets.js';
import { connect, createUser, eventually, PASSWORD, sleep, startServer, type TestServer } from '../helpers/server.js';

const ATTACKER = '127.0.0.2';

interface Peer {
  control: ControlClient;
  voice: VoiceTransport;
  welcome: WelcomeResult;
  heard: ReceivedVoice[];
}

async function peer(t: TestServer, name: string, udpPort?: number): Promise<Peer> {
  await createUser(t, name);
  const control = await connect(t);
  const welcome = await control.login(name, PASSWORD);
  const voice = await new VoiceTransport(control, welcome.voice!, { udpHost: '127.0.0.1', ...(udpPort !== undefined ? { udpPort } : {}) }).start();
  const heard: ReceivedVoice[] = [];
  voice.on('voice', (v: ReceivedVoice) => heard.push({ ...v, payload: Buffer.from(v.payload) }));
  return { control, voice, welcome, heard };
}

/**
 * The on-path relay: the client sends to `port`; datagrams go on to the server
 * from one upstream socket (the address the server validates), answers come
 * back. `withhold` decides which client datagrams the attacker keeps.
 */
class OnPath {
  withhold: (msg: Buffer) => boolean = () => false;
  readonly withheld: Buffer[] = [];
  private readonly front = dgram.createSocket('udp4');
  private readonly up = dgram.createSocket('udp4');
  private client: { port: number; address: string } | null = null;
  constructor(private readonly serverPort: number) {}
  async start(): Promise<this> {
    this.front.on('message', (m, r) => {
      this.client = { port: r.port, address: r.address };
      if (this.withhold(m)) this.withheld.push(m);
      else this.up.send(m, this.serverPort, '127.0.0.1');
    });
    this.up.on('message', (m) => this.client && this.front.send(m, this.client.port, this.client.address));
    await Promise.all([new Promise<void>((r) => this.front.bind(0, '127.0.0.1', r)), new Promise<void>((r) => this.up.bind(0, '127.0.0.1', r))]);
    return this;
  }
  get port(): number {
    return this.front.address().port;
  }
  get upstreamPort(): number {
    return this.up.address().port;
  }
  /** Sends to the client as if from the server's side of the relay. */
  toClient(m: Buffer): void {
    if (this.client) this.front.send(m, this.client.port, this.client.address);
  }
  close(): void {
    this.front.close();
    this.up.close();
  }
}

/** The attacker's own socket on 127.0.0.2: records all it receives. */
async function attackerSocket(): Promise<{ socket: dgram.Socket; got: Buffer[]; send(m: Buffer, port: number): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', (m) => got.push(m));
  await new Promise<void>((r) => socket.bind(0, ATTACKER, r));
  return { socket, got, send: (m, port) => new Promise<void>((r) => socket.send(m, port, '127.0.0.1', () => r())) };
}

type LaneInternals = { byToken: Map<number, { address: string | null; port: number }> };
const sessionOf = (t: TestServer, token: number) => (t.server.voice as unknown as LaneInternals).byToken.get(token)!;
const frame = (i: number) => Buffer.from(`frame-${i}-`.padEnd(120, 'x'));
const close = (...ps: Peer[]) => ps.forEach((p) => (p.voice.close(), p.control.close()));

interface Ctx {
  t: TestServer;
  relay: OnPath;
  a: Peer;
  b: Peer;
  attacker: Awaited<ReturnType<typeof attackerSocket>>;
}
const test = suite<Ctx>('voice address hijack');

test.before.each(async (ctx) => {
  ctx.t = await startServer();
  ctx.relay = await new OnPath(ctx.t.server.voice.port).start();
  ctx.a = await peer(ctx.t, 'alice');
  ctx.b = await peer(ctx.t, 'bob', ctx.relay.port);
  ctx.attacker = await attackerSocket();
  await eventually(() => ctx.a.voice.counters.keepaliveAnswers > 0 && ctx.b.voice.counters.keepaliveAnswers > 0, 5000, 'both on UDP');
  assert.is(sessionOf(ctx.t, ctx.b.voice.token).port, ctx.relay.upstreamPort, "bob's validated path is the relay");
});
test.after.each(async (ctx) => {
  close(ctx.a, ctx.b);
  ctx.relay.close();
  ctx.attacker.socket.close();
  await ctx.t.stop();
});

/** Alice talks; bob must hear all of it, and the attacker none of it. */
async function aliceReachesBob({ a, b, attacker }: Ctx, n: number): Promise<void> {
  const before = b.heard.length;
  for (let i = 0; i < n; i++) a.voice.sendVoice(frame(i));
  await eventually(() => b.heard.length >= before + n, 3000, 'bob hears alice');
  await sleep(100);
  assert.is(attacker.got.filter((m) => m.length > 36).length, 0, 'the attacker received no voice');
}

test('a withheld genuine keep-alive replayed from the attacker does not move the session', async (ctx) => {
  const { t, relay, b, attacker } = ctx;
  relay.withhold = (m) => m.length === 36;
  b.voice.keepalive();
  await eventually(() => relay.withheld.length === 1, 2000, 'keep-alive withheld');
  relay.withhold = () => false;
  // The attacker also hands whatever it gets to bob, hoping bob's answer validates its address.
  attacker.socket.on('message', (m) => relay.toClient(m));
  const authBefore = t.server.voice.stats.authenticated;
  await attacker.send(relay.withheld[0]!, t.server.voice.port);
  await eventually(() => t.server.voice.stats.authenticated > authBefore, 2000, 'the replay authenticated (fresh and genuine)');
  await sleep(100);
  const s = sessionOf(t, b.voice.token);
  assert.is(s.address, '127.0.0.1', 'session not moved to the attacker');
  assert.is(s.port, relay.upstreamPort);
  await aliceReachesBob(ctx, 5);
  // What the attacker got: at most the one challenge, no larger than the 36 bytes it sent.
  assert.ok(attacker.got.length <= 1 && attacker.got.every((m) => m.length <= 36), `attacker got ${attacker.got.map((m) => m.length)}`);
  // Bob did answer the challenge the attacker forwarded, but from his own path: it validated nothing.
  if (attacker.got.length === 1) await eventually(() => b.voice.counters.pathChallenges === 2, 2000, `bob answered (${JSON.stringify(b.voice.counters)})`);
  assert.is(t.server.voice.stats.path.moves, 0);
  assert.is(sessionOf(t, b.voice.token).port, relay.upstreamPort);
});

test('older (reordered or withheld) packets from another address are input only: no challenge, no move', async (ctx) => {
  const { t, relay, a, b, attacker } = ctx;
  let held = 0;
  relay.withhold = (m) => m.length > 36 && held++ < 3;
  for (let i = 0; i < 5; i++) b.voice.sendVoice(frame(100 + i));
  await eventually(() => a.heard.length === 2 && relay.withheld.length === 3, 2000, 'two through, three withheld');
  for (const m of relay.withheld) await attacker.send(m, t.server.voice.port);
  // Fresh and genuine: alice hears them late, but each is older than bob's newest.
  await eventually(() => a.heard.length === 5, 2000, 'withheld packets taken as input');
  await sleep(100);
  assert.is(attacker.got.length, 0, 'not even a challenge goes to the attacker');
  assert.is(sessionOf(t, b.voice.token).port, relay.upstreamPort, 'not moved');
  assert.is(t.server.voice.stats.path.notNewest, 3);
  await aliceReachesBob(ctx, 5);
});

test('address flapping under replay is 0: every other packet of bob replayed from the attacker first', async (ctx) => {
  const { t, relay, a, b, attacker } = ctx;
  let k = 0;
  relay.withhold = (m) => m.length > 36 && k++ % 2 === 0;
  let onAttacker = 0;
  for (let i = 0; i < 20; i++) {
    b.voice.sendVoice(frame(200 + i));
    await eventually(() => a.heard.length + relay.withheld.length >= i + 1, 2000, `packet ${i} seen`);
    const m = relay.withheld.shift();
    if (m === undefined) continue;
    const heard = a.heard.length;
    // Sent before bob's next genuine packet, so it is the newest the server has seen.
    await attacker.send(m, t.server.voice.port);
    await eventually(() => a.heard.length > heard, 2000, 'replayed packet processed');
    if (sessionOf(t, b.voice.token).address === ATTACKER) onAttacker++;
  }
  assert.is(onAttacker, 0, 'the session was never on the attacker');
  assert.is(a.heard.length, 20, 'alice heard every packet of bob once');
  assert.is(t.server.voice.stats.path.moves, 0, 'no address change');
  assert.ok(attacker.got.every((m) => m.length === 36 && m[4] === 0x81), 'the attacker got only challenges');
  await aliceReachesBob(ctx, 5);
});

test('a flood of withheld packets earns one outstanding challenge, never more, never bigger', async (ctx) => {
  const { t, relay, b, attacker } = ctx;
  t.server.voice.paths.timing.challengeTimeoutMs = 60_000;
  relay.withhold = () => true;
  for (let i = 0; i < 30; i++) b.voice.sendVoice(frame(300 + i));
  await eventually(() => relay.withheld.length === 30, 2000, 'all withheld');
  const authBefore = t.server.voice.stats.authenticated;
  const challengesBefore = t.server.voice.stats.path.challenges;
  for (const m of relay.withheld) await attacker.send(m, t.server.voice.port);
  await eventually(() => t.server.voice.stats.authenticated >= authBefore + 30, 2000, 'all processed');
  await sleep(100);
  assert.is(attacker.got.length, 1, 'one challenge');
  assert.is(attacker.got[0]!.length, 36);
  assert.is(t.server.voice.stats.path.challenges, challengesBefore + 1);
  relay.withhold = () => false;
  // Bob's next packet, over his validated path, cancels the challenge.
  b.voice.sendVoice(frame(400));
  await eventually(() => t.server.voice.stats.path.cancelled === 1, 2000, 'challenge cancelled by the old path');
  assert.is(sessionOf(t, b.voice.token).port, relay.upstreamPort);
});

test('NAT rebinding: a new source port is validated within a round trip and voice continues', async () => {
  const t = await startServer();
  const a = await peer(t, 'ann');
  const b = await peer(t, 'ben');
  try {
    await eventually(() => a.voice.counters.keepaliveAnswers > 0 && b.voice.counters.keepaliveAnswers > 0, 5000, 'both on UDP');
    const p = t.server.voice.stats.path;
    const validated = p.validated;
    const answers = b.voice.counters.keepaliveAnswers;
    await b.voice.rebind();
    // Voice sent at once from the new port is taken as input before the path is validated.
    b.voice.sendVoice(frame(1));
    await eventually(() => a.heard.length === 1, 2000, 'input accepted from the new port');
    await eventually(() => sessionOf(t, b.voice.token).port === b.voice.localPort, 2000, 'new port validated');
    assert.is(p.validated, validated + 1);
    assert.is(p.moves, 1);
    assert.ok(b.voice.counters.pathChallenges >= 1, 'bob answered a challenge');
    // The keep-alive that started it is answered once the path is validated.
    await eventually(() => b.voice.counters.keepaliveAnswers > answers, 2000, 'keep-alive answered on the new port');
    for (let i = 0; i < 5; i++) a.voice.sendVoice(frame(i));
    await eventually(() => b.heard.length === 5 && b.heard.every((v) => v.via === 'udp'), 2000, 'voice follows to the new port');
  } finally {
    close(a, b);
    await t.stop();
  }
});

test('PATH_CHALLENGE and PATH_RESPONSE bytes match docs/PROTOCOL.md 12.6', () => {
  const keys = deriveVoiceKeys(Buffer.from([...Array(32).keys()]));
  const challenge = sealPathChallenge(new VoiceCipher(keys.serverToClient), 42, 0, 0x01234567, 0x89abcdef);
  assert.is(challenge.toString('hex'), '0000002a81000000000000000123456789abcdefed8d5e9eec6290ec1e532a3e736bd145');
  const response = sealPathResponse(new VoiceCipher(keys.clientToServer), 42, 8, 0x0123456789abcdefn);
  assert.is(response.toString('hex'), '0000002a81000000000000080123456789abcdefaeedb697a910a23864dd97adc5be681b');
});

test.run();
