// The server's own backlog (issue 12): it must never move listeners to the
// TLS fallback because their keep-alives sat in its receive queue, and under
// overload it drops voice that waited too long instead of delivering it late
// (host/server/voice/backlog-probe.ts). Real server, real UDP on 127.0.0.1;
// the overload is made by blocking the event loop or by slowing the fan-out.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { eventually, sleep, startServer, type TestServer } from '../helpers/server.js';
import { RawVoiceClient } from './raw-voice-client.js';

interface Ctx {
  t: TestServer;
  speaker: RawVoiceClient;
  listener: RawVoiceClient;
}

/** Busy-waits: the event loop (and so the whole server) does nothing meanwhile. */
function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

const test = suite<Ctx>('voice lane under its own backlog');

test.before.each(async (ctx) => {
  ctx.t = await startServer({ voice: { udpSilentMs: 1500, packetsPerSecond: 1000, packetBurst: 2000 } });
  ctx.speaker = await RawVoiceClient.connect(ctx.t, 'speaker');
  ctx.listener = await RawVoiceClient.connect(ctx.t, 'listener');
  await ctx.speaker.establish();
  await ctx.listener.establish();
  // The lane trusts its backlog figures only once a probe came back (or it saw itself idle).
  await eventually(() => ctx.t.server.voice.backlog.trusted, 2000, 'backlog figures trusted');
});
test.after.each(async (ctx) => {
  ctx.speaker.close();
  ctx.listener.close();
  await ctx.t.stop();
});

const session = (t: TestServer, c: RawVoiceClient) => t.server.voice.voiceSessions.get(c.token)!;

test('a blocked event loop does not make a listener look silent: it stays on UDP', async ({ t, speaker, listener }) => {
  const stats = t.server.voice.stats;
  const before0 = stats.keepalives;
  speaker.keepalive();
  listener.keepalive();
  await eventually(() => stats.keepalives >= before0 + 2, 1000, 'keep-alives processed');
  await sleep(300);
  const before = stats.keepalives;
  // Queued in the server's socket now; read only after the block. Meanwhile the 1 s sweep
  // falls due with the clients' last UDP 2.8 s back: longer than udpSilentMs (1.5 s).
  speaker.keepalive();
  listener.keepalive();
  block(2500);
  await eventually(() => stats.keepalives >= before + 2, 2000, 'queued keep-alives processed');
  await sleep(1100); // another sweep
  assert.is(stats.udpSilentFallbacks, 0, 'nobody moved to TLS');
  assert.ok(session(t, listener).udpActive);
});

test('a listener that really goes silent still moves to TLS', async ({ t, listener }) => {
  const stats = t.server.voice.stats;
  assert.ok(session(t, listener).udpActive);
  // No keep-alives from it any more: after udpSilentMs (1.5 s) and a sweep it is on TLS.
  await eventually(() => !session(t, listener).udpActive, 4000, 'moved to TLS');
  assert.ok(stats.udpSilentFallbacks >= 1);
});

test('overload: stale voice is dropped unopened, the rest delivered, keep-alives keep the listener on UDP', async ({ t, speaker, listener }) => {
  const lane = t.server.voice;
  const stats = lane.stats;
  // A server that needs 30 ms per packet, fed 100 packets/s: it falls further behind every second.
  const forward = lane.fanout.forward.bind(lane.fanout);
  lane.fanout.forward = (...args) => {
    block(30);
    forward(...args);
  };
  const total = 300;
  const datagrams = Array.from({ length: total }, (_, i) => speaker.send.seal(speaker.token, speaker.sequence++, i * 960, Buffer.alloc(120, i & 0xff)));
  // The load comes from another thread, so the server's slowness cannot slow it down.
  const worker = new Worker(
    `const dgram = require('node:dgram');
     const { workerData, parentPort } = require('node:worker_threads');
     const s = dgram.createSocket('udp4');
     s.bind(0, '127.0.0.1', () => {
       let i = 0;
       const timer = setInterval(() => {
         s.send(workerData.datagrams[i++], workerData.port, '127.0.0.1');
         if (i === workerData.datagrams.length) { clearInterval(timer); setTimeout(() => { s.close(); parentPort.postMessage('done'); }, 50); }
       }, 10);
     });`,
    { eval: true, workerData: { datagrams, port: lane.port } },
  );
  // The speaker's voice comes from the worker's address; its own validated path keeps sending keep-alives too.
  const keepalives = setInterval(() => (listener.keepalive(), speaker.keepalive()), 100);
  try {
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await eventually(() => listener.relayed.length + stats.dropped.stale >= total, 20_000, 'every packet delivered or dropped as stale');
  } finally {
    clearInterval(keepalives);
    await worker.terminate();
  }
  assert.ok(stats.dropped.stale > 0, 'some voice was too old to be worth sending');
  assert.ok(listener.relayed.length > 0, 'the rest was delivered');
  assert.is(listener.relayed.length + stats.dropped.stale, total, 'nothing else lost');
  assert.ok(stats.backlog.maxLagMs > lane.backlog.settings.staleMs, 'the lag was seen');
  assert.is(stats.udpSilentFallbacks, 0, 'the listener never left UDP');
  assert.is(stats.forwardedTcp, 0);
});

test.run();
