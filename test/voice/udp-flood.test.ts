// Issue 10, attack 5: UDP garbage must cost the server as little as possible
// and never cost legitimate voice. Mechanisms, not timings: unknown-token
// garbage never reaches the AEAD, a real token under a bad-ciphertext flood
// has a budget of failed opens, a flooding source is shed before any crypto
// (but a session's validated path never is), and the kernel's own drop
// counter shows up in the lane's stats. The flood comes from worker threads,
// from other loopback addresses (127.0.0.3-5), over real UDP.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { VoiceTransport, type ReceivedVoice } from '../../host/client/audio/voice-transport.js';
import type { ControlClient } from '../../host/client/control/control-client.js';
import type { WelcomeResult } from '../../host/protocol/server-messages.js';
import { deriveVoiceKeys, VoiceCipher } from '../../host/voice/packet.js';
import { connect, createUser, eventually, PASSWORD, sleep, startServer, type TestServer } from '../helpers/server.js';

interface Peer {
  control: ControlClient;
  voice: VoiceTransport;
  welcome: WelcomeResult;
  heard: ReceivedVoice[];
}

async function peer(t: TestServer, name: string): Promise<Peer> {
  await createUser(t, name);
  const control = await connect(t);
  const welcome = await control.login(name, PASSWORD);
  const voice = await new VoiceTransport(control, welcome.voice!, { udpHost: '127.0.0.1' }).start();
  const heard: ReceivedVoice[] = [];
  voice.on('voice', (v: ReceivedVoice) => heard.push(v));
  return { control, voice, welcome, heard };
}

/**
 * Sends `count` garbage datagrams from `from` in a worker thread (so it keeps
 * sending while this thread is busy). kind: 'random' (random bytes, random
 * tokens), or 'badMac' (real `tokens`, fresh sequences, random ciphertext).
 * `done` (shared) turns 1 when every send completed.
 */
function flood(opts: { port: number; from: string; count: number; kind: 'random' | 'badMac'; tokens?: number[]; size?: number }): { done: Int32Array; finished: Promise<void> } {
  const done = new Int32Array(new SharedArrayBuffer(4));
  const code = `
    const { workerData: w } = require('node:worker_threads');
    const dgram = require('node:dgram');
    const { randomBytes } = require('node:crypto');
    const s = dgram.createSocket('udp4');
    s.bind(0, w.from, async () => {
      let pending = 0, seq = 1000000;
      for (let i = 0; i < w.count; i++) {
        const len = w.size || 36 + (i % 120);
        const m = randomBytes(len);
        if (w.kind === 'badMac') {
          m.writeUInt32BE(w.tokens[i % w.tokens.length], 0);
          m.writeUInt32BE(0, 4);
          m.writeUInt32BE(seq++, 8);
        } else if (m[4] >= 0x80) m[4] &= 0x7f;
        pending++;
        s.send(m, w.port, '127.0.0.1', () => {
          if (--pending === 0 && i === w.count - 1) { Atomics.store(w.done, 0, 1); s.close(); }
        });
        // Let the socket drain now and then: a flood, but not an ENOBUFS storm in the sender.
        if (i % 200 === 199) await new Promise((r) => setImmediate(r));
      }
    });`;
  const worker = new Worker(code, { eval: true, workerData: { ...opts, done } });
  const finished = new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', () => resolve());
  });
  return { done, finished };
}

const frame = (i: number) => Buffer.from(`frame-${i}-`.padEnd(120, 'x'));
const close = (...ps: Peer[]) => ps.forEach((p) => (p.voice.close(), p.control.close()));

const test = suite<{ t: TestServer; a: Peer; b: Peer }>('udp garbage flood');

test.before.each(async (ctx) => {
  // Keep-alives rare, so every AEAD open during a test is one the test caused.
  ctx.t = await startServer({ voice: { keepaliveMs: 60_000 } });
  ctx.t.server.voice.shedder.settings.shedMs = 60_000;
  ctx.a = await peer(ctx.t, 'alice');
  ctx.b = await peer(ctx.t, 'bob');
  await eventually(() => ctx.a.voice.counters.keepaliveAnswers > 0 && ctx.b.voice.counters.keepaliveAnswers > 0, 5000, 'both on UDP');
});
test.after.each(async (ctx) => {
  close(ctx.a, ctx.b);
  await ctx.t.stop();
});

test('random garbage and unknown tokens never reach the AEAD; the source is shed', async ({ t }) => {
  const s = t.server.voice.stats;
  const opens = s.aeadOpens;
  const received = s.received;
  const f = flood({ port: t.server.voice.port, from: '127.0.0.3', count: 5000, kind: 'random' });
  await f.finished;
  const k = await t.server.voice.refreshKernelDrops();
  const kernelBefore = k.socketDrops ?? 0;
  await eventually(() => s.received - received + ((t.server.voice.stats.kernel.socketDrops ?? 0) - kernelBefore) >= 5000 || s.received - received >= 5000, 5000, 'flood read');
  assert.is(s.aeadOpens, opens, 'not one AEAD open for unknown tokens');
  assert.ok(s.admission.sourcesShed >= 1, 'the source was shed');
  assert.ok(s.dropped.shedSource > 0, 'and dropped at the first check from then on');
  const threshold = t.server.voice.shedder.settings.badPerWindow;
  assert.ok(s.dropped.unknownToken >= threshold - 1, `unknown tokens counted until shed (${s.dropped.unknownToken})`);
});

test('a bad-ciphertext flood under real tokens: bounded AEAD opens, legitimate voice unharmed', async ({ t, a, b }) => {
  const s = t.server.voice.stats;
  const opens = s.aeadOpens;
  const forged = s.dropped.forged;
  const tokens = [a.voice.token, b.voice.token];
  const floods = ['127.0.0.4', '127.0.0.5'].map((from) => flood({ port: t.server.voice.port, from, count: 3000, kind: 'badMac', tokens }));
  // Alice talks through it; bob listens.
  for (let i = 0; i < 50; i++) {
    a.voice.sendVoice(frame(i));
    if (i % 10 === 9) await sleep(5);
  }
  await Promise.all(floods.map((f) => f.finished));
  await eventually(() => b.heard.length === 50, 5000, `bob hears all 50 (${b.heard.length})`);
  await sleep(200);
  const budget = t.server.voice.shedder.settings.badMacPerWindow;
  const flooded = s.aeadOpens - opens - 50;
  // Each token spends its budget once (shedMs outlasts the test); per-source shedding may stop it sooner.
  assert.ok(flooded <= budget * tokens.length, `AEAD opens for garbage ${flooded} <= ${budget * tokens.length}`);
  assert.is(s.dropped.forged - forged, flooded);
  assert.ok(s.admission.sessionBudgetsSpent >= 1 || s.admission.sourcesShed >= 2, 'a budget was spent or the sources shed');
  assert.ok(s.dropped.shedSession + s.dropped.shedSource >= 5000, 'nearly all of it dropped before crypto');
});

test('a shed source cannot get even a genuine packet through from a new address, but a validated path is never shed', async ({ t, a, b }) => {
  const s = t.server.voice.stats;
  const f = flood({ port: t.server.voice.port, from: '127.0.0.3', count: 2 * t.server.voice.shedder.settings.badPerWindow, kind: 'random' });
  await f.finished;
  await eventually(() => s.admission.sourcesShed >= 1, 3000, 'shed');
  const shedBefore = s.dropped.shedSource;
  const genuine = new VoiceCipher(deriveVoiceKeys(Buffer.from(a.welcome.voice!.secret, 'base64')).clientToServer).seal(a.voice.token, 10_000, 1, frame(1));
  const w = new Worker(
    `const d=require('node:dgram');const {workerData:w}=require('node:worker_threads');const s=d.createSocket('udp4');s.bind(0,'127.0.0.3',()=>s.send(Buffer.from(w.m),w.port,'127.0.0.1',()=>s.close()));`,
    { eval: true, workerData: { m: genuine, port: t.server.voice.port } },
  );
  await new Promise((r) => w.once('exit', r));
  await eventually(() => s.dropped.shedSource > shedBefore, 2000, 'dropped as shed');
  assert.is(b.heard.length, 0, 'not forwarded');
  // Alice's own path (127.0.0.1, not shed anyway) and bob's keep working.
  a.voice.sendVoice(frame(2));
  await eventually(() => b.heard.length === 1, 2000, 'legit voice flows');
});

test("the kernel's drop counter is reported: a stalled server's full receive buffer shows in stats.kernel", async () => {
  const t = await startServer({ voice: { recvBufferBytes: 65_536 } });
  try {
    const before = await t.server.voice.refreshKernelDrops();
    assert.type(before.socketDrops, 'number', 'the socket is found in /proc/net/udp');
    assert.type(before.systemRcvbufErrors, 'number', '/proc/net/snmp read');
    assert.ok((before.recvBufferBytes ?? 0) >= 65_536, `granted ${before.recvBufferBytes}`);
    const f = flood({ port: t.server.voice.port, from: '127.0.0.3', count: 3000, kind: 'random', size: 1000 });
    // This thread (the server's) stops reading until the worker has sent it all: the buffer must overflow.
    const until = Date.now() + 10_000;
    while (Atomics.load(f.done, 0) === 0 && Date.now() < until) {
      /* busy: the server cannot read */
    }
    await f.finished;
    const after = await t.server.voice.refreshKernelDrops();
    assert.ok(after.socketDrops! > before.socketDrops!, `socket drops ${before.socketDrops} -> ${after.socketDrops}`);
    assert.ok(after.systemRcvbufErrors! >= before.systemRcvbufErrors! + (after.socketDrops! - before.socketDrops!), 'counted machine-wide too');
    assert.is(t.server.voice.stats.kernel.socketDrops, after.socketDrops, 'in the lane stats');
  } finally {
    await t.stop();
  }
});

test.run();
