// Address learning, NAT rebinding, keep-alive cadence and the TLS fallback.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { VoiceTransport, type ReceivedVoice } from '../../host/client/audio/voice-transport.js';
import type { ControlClient } from '../../host/client/control/control-client.js';
import type { WelcomeResult } from '../../host/protocol/server-messages.js';
import { connect, createUser, eventually, PASSWORD, sleep, startServer, type TestServer } from '../helpers/server.js';
import { UdpRelay } from '../helpers/udp-relay.js';

interface Peer {
  control: ControlClient;
  voice: VoiceTransport;
  welcome: WelcomeResult;
  heard: ReceivedVoice[];
}

async function peer(t: TestServer, name: string, opts: { udpPort?: number; fallbackAfterMs?: number; silentAfterMs?: number; probeMs?: number } = {}): Promise<Peer> {
  await createUser(t, name);
  const control = await connect(t);
  const welcome = await control.login(name, PASSWORD);
  const voice = await new VoiceTransport(control, welcome.voice!, { udpHost: '127.0.0.1', ...opts }).start();
  const heard: ReceivedVoice[] = [];
  voice.on('voice', (v: ReceivedVoice) => heard.push({ ...v, payload: Buffer.from(v.payload) }));
  return { control, voice, welcome, heard };
}
const close = (...ps: Peer[]) => ps.forEach((p) => (p.voice.close(), p.control.close()));
const payload = Buffer.alloc(120, 1);

const test = suite('voice paths');

test('the server learns the address from authenticated packets only, and follows NAT rebinding', async () => {
  const t = await startServer();
  const a = await peer(t, 'ann');
  const b = await peer(t, 'bea');
  try {
    await eventually(() => a.voice.counters.keepaliveAnswers > 0 && b.voice.counters.keepaliveAnswers > 0, 3000, 'udp up');
    const vs = () => [...(t.server.voice as unknown as { byToken: Map<number, { port: number; address: string }> }).byToken.values()];
    const bSession = () => vs().find((s) => s.port === b.voice.localPort || s.port !== a.voice.localPort)!;
    const oldPort = b.voice.localPort;
    assert.is(bSession().port, oldPort);
    // A forged datagram with bob's token from another socket must not redirect his voice.
    const attacker = dgram.createSocket('udp4');
    const stolen: Buffer[] = [];
    attacker.on('message', (m) => stolen.push(m));
    await new Promise<void>((r) => attacker.bind(0, '127.0.0.1', r));
    const forged = Buffer.alloc(60);
    forged.writeUInt32BE(b.voice.token, 0);
    forged.writeBigUInt64BE(999n, 4);
    attacker.send(forged, t.server.voice.port, '127.0.0.1');
    await eventually(() => t.server.voice.stats.dropped.forged > 0, 2000, 'forged counted');
    a.voice.sendVoice(payload);
    await eventually(() => b.heard.length === 1, 2000, 'bob still hears on his real address');
    assert.is(stolen.length, 0, 'nothing went to the attacker');
    // Bob's NAT mapping changes: new source port. His next authenticated packet moves the address.
    await b.voice.rebind();
    assert.is.not(b.voice.localPort, oldPort);
    await eventually(() => vs().some((s) => s.port === b.voice.localPort), 2000, 'server re-learned the address');
    a.voice.sendVoice(payload);
    await eventually(() => b.heard.length === 2, 2000, 'voice follows to the new port');
    attacker.close();
  } finally {
    close(a, b);
    await t.stop();
  }
});

test('keep-alives go out at the configured cadence and each is answered (RTT measured)', async () => {
  const t = await startServer({ voice: { keepaliveMs: 100 } });
  const a = await peer(t, 'kim');
  try {
    const start = a.voice.counters.keepalivesSent;
    await sleep(1050);
    const sent = a.voice.counters.keepalivesSent - start;
    assert.ok(sent >= 8 && sent <= 12, `about 10 keep-alives in 1 s at 100 ms (got ${sent})`);
    await eventually(() => a.voice.counters.keepaliveAnswers >= a.voice.counters.keepalivesSent - 1, 1000, 'answers');
    assert.ok(a.voice.rttMs !== null && a.voice.rttMs >= 0 && a.voice.rttMs < 100, `rtt ${a.voice.rttMs}`);
    assert.ok(t.server.voice.stats.keepalives >= sent);
  } finally {
    close(a);
    await t.stop();
  }
});

test('UDP blocked: voice flows over TLS both ways; when UDP works again, it switches back', async () => {
  const t = await startServer({ voice: { udpSilentMs: 600 } });
  const relay = await UdpRelay.start(t.server.voice.port);
  relay.blocked = true;
  const a = await peer(t, 'ada', { udpPort: relay.port, fallbackAfterMs: 300, silentAfterMs: 500, probeMs: 100 });
  const b = await peer(t, 'bo');
  try {
    await eventually(() => a.voice.mode === 'tcp', 2000, 'a falls back to TCP');
    await eventually(() => b.voice.counters.keepaliveAnswers > 0, 2000, 'b on UDP');
    for (let i = 0; i < 5; i++) a.voice.sendVoice(payload);
    await eventually(() => b.heard.length === 5, 2000, 'b hears a (a sends over TLS)');
    for (let i = 0; i < 5; i++) b.voice.sendVoice(payload);
    await eventually(() => a.heard.length === 5, 2000, 'a hears b (server sends to a over TLS)');
    assert.ok(a.heard.every((v) => v.via === 'tcp'));
    assert.ok(b.heard.every((v) => v.via === 'udp'));
    assert.ok(t.server.voice.stats.forwardedTcp >= 5);
    // The network heals.
    relay.blocked = false;
    await eventually(() => a.voice.mode === 'udp', 2000, 'a back on UDP');
    const before = a.heard.length;
    for (let i = 0; i < 5; i++) b.voice.sendVoice(payload);
    await eventually(() => a.heard.length === before + 5, 2000, 'a hears b again');
    assert.ok(a.heard.slice(before).every((v) => v.via === 'udp'), 'over UDP');
    assert.ok(relay.forwarded > 0);
    // And breaks again after working: the server notices the silence and falls back too.
    relay.blocked = true;
    await eventually(() => a.voice.mode === 'tcp', 3000, 'a falls back again');
    const sessions = () => [...(t.server.voice as unknown as { byToken: Map<number, { token: number; udpActive: boolean }> }).byToken.values()];
    await eventually(() => sessions().find((s) => s.token === a.voice.token)?.udpActive === false, 3000, 'server marks a silent');
    const n = a.heard.length;
    b.voice.sendVoice(payload);
    await eventually(() => a.heard.length === n + 1 && a.heard[n]!.via === 'tcp', 2000, 'server sends over TLS after UDP went silent');
  } finally {
    close(a, b);
    relay.close();
    await t.stop();
  }
});

test('a session sending over its packet rate is cut to the rate; the excess is dropped and counted', async () => {
  const t = await startServer({ voice: { packetsPerSecond: 20, packetBurst: 10 } });
  const a = await peer(t, 'flo');
  const b = await peer(t, 'gus');
  try {
    await eventually(() => a.voice.counters.keepaliveAnswers > 0 && b.voice.counters.keepaliveAnswers > 0, 3000, 'udp up');
    await sleep(600); // let the buckets refill after the keep-alives
    for (let i = 0; i < 60; i++) a.voice.sendVoice(payload);
    await eventually(() => t.server.voice.stats.dropped.overRate >= 40, 2000, 'over-rate drops counted');
    await sleep(100);
    assert.ok(b.heard.length >= 8 && b.heard.length <= 20, `listener got about the burst (${b.heard.length})`);
    // the session keeps working at its normal rate afterwards
    await sleep(300);
    const before = b.heard.length;
    a.voice.sendVoice(payload);
    await eventually(() => b.heard.length === before + 1, 2000, 'normal traffic flows again');
  } finally {
    close(a, b);
    await t.stop();
  }
});

test.run();
