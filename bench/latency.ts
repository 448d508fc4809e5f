// Mouth-to-ear latency through a real server on 127.0.0.1, with virtual
// devices on both ends: a tone burst is injected into A's capture at the
// start of a frame, and found in B's playback; both sides' sample clocks are
// the engines' tick times (epoch ms), so the difference is sample-accurate.
// The two engines' 20 ms clocks are aligned to tick together, the case the
// floor is stated for:
//   capture framing 20 ms (sample 0 of a frame is 20 ms old when the frame is read)
// + encoder look-ahead 6.5 ms (312 samples at 48 kHz)
// + jitter hold 40 ms, rounded up to the next playout tick (+20 ms when the
//   packet arrives just after a tick) = 60 ms
// = 86.5 ms.
// Prints one JSON line: mouthToEarMs (median over the bursts) and its parts.
// Usage: node dist/bench/latency.js [bursts]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadServerConfig } from '../host/config/server-config.js';
import { HearthServer } from '../host/server/server.js';
import { hashPassword } from '../host/server/password.js';
import { ClientCore } from '../host/client/core/client-core.js';
import { OpusDecoder, OpusEncoder } from '../host/client/audio/opus.js';
import { FRAME_SAMPLES, SAMPLES_PER_MS } from '../host/client/audio/format.js';

const BURSTS = Number(process.argv[2] ?? 10);
const PASSWORD = 'latency bench password';
const FLOOR_MS = 20 + 312 / SAMPLES_PER_MS + 60;

/** 5 ms of 1 kHz at -6 dBFS with a 1 ms attack: loud enough for the gate, short enough to find. */
function burst(): Float32Array {
  const n = 5 * SAMPLES_PER_MS;
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) b[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 48_000) * Math.min(1, i / SAMPLES_PER_MS);
  return b;
}

/** First sample whose magnitude reaches `threshold`. */
function onset(x: Float32Array, threshold: number, from = 0, stride = 1): number {
  for (let i = from; i * stride < x.length; i++) if (Math.abs(x[i * stride]!) >= threshold) return i;
  return -1;
}

/** Where the detector finds the burst after a direct Opus encode/decode, in samples after the input onset (look-ahead included). */
function codecDetectorDelay(threshold: number): number {
  const enc = new OpusEncoder({ bitrate: 48_000, fec: true });
  const dec = new OpusDecoder();
  const input = new Float32Array(FRAME_SAMPLES * 10);
  input.set(burst(), FRAME_SAMPLES * 4);
  const out = new Float32Array(input.length);
  const f = new Float32Array(FRAME_SAMPLES);
  for (let at = 0; at < input.length; at += FRAME_SAMPLES) {
    dec.decode(enc.encode(input.subarray(at, at + FRAME_SAMPLES)), f);
    out.set(f, at);
  }
  enc.close();
  dec.close();
  return onset(out, threshold) - FRAME_SAMPLES * 4;
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};
const r2 = (x: number): number => Math.round(x * 100) / 100;

const dir = mkdtempSync(join(tmpdir(), 'hearth-latency-'));
const logger = pino({ level: 'silent' });
const server = new HearthServer(loadServerConfig({ host: '127.0.0.1', port: 0, dataDir: dir, log: { level: 'warn', pretty: false } }));
const info = await server.start();
for (const name of ['ann', 'bob']) server.store.users.create(name, await hashPassword(PASSWORD), 'member');

const a = await ClientCore.start({
  logger,
  knownHostsFile: join(dir, 'a-known.json'),
  capture: { kind: 'virtual' },
  playback: { kind: 'none' },
  settings: { gate: { mode: 'vad', thresholdDb: -40, hangoverMs: 0 } },
});
const b = await ClientCore.start({ logger, knownHostsFile: join(dir, 'b-known.json'), capture: { kind: 'none' }, playback: { kind: 'virtual' } });
for (const [core, user] of [[a, 'ann'], [b, 'bob']] as const) {
  core.push({ type: 'connect', server: { host: '127.0.0.1', port: info.port }, username: user, password: PASSWORD, fingerprint: info.fingerprint });
  await core.state.until((s) => s.connection.status === 'connected');
}
await b.state.until((s) => s.users.some((u) => u.username === 'ann' && u.voiceToken !== undefined));
const origin = Date.now() + 100;
a.engine.alignClock(origin);
b.engine.alignClock(origin);
await new Promise((r) => setTimeout(r, 500));

const rtts: number[] = [];
const holds: number[] = [];
// One burst more than measured: the first of a session meets cold code paths
// (JIT, the listener's first decoder) and lands 20-40 ms late; it is reported
// apart as firstBurstMs.
for (let i = 0; i < BURSTS + 1; i++) {
  a.engine.injectVirtual(burst());
  // Each burst is its own talk spurt (the gate closes in between), so each one
  // meets a fresh jitter buffer: the 40 ms hold every spurt starts with.
  await new Promise((r) => setTimeout(r, 150));
  const rb = b.engine.report;
  const sp = rb?.speakers[0];
  if (sp) holds.push(sp.targetMs);
  if (a.engine.report?.transport?.rttMs) rtts.push(a.engine.report.transport.rttMs);
  await new Promise((r) => setTimeout(r, 350));
}
const da = await a.engine.dumpVirtual();
const db = await b.engine.dumpVirtual();
const capCpu = a.engine.report?.cpu.captureUsP50 ?? 0;
const playCpu = b.engine.report?.cpu.playbackUsP50 ?? 0;
await Promise.all([a.close(), b.close()]);
await server.stop();
rmSync(dir, { recursive: true, force: true });

const threshold = 0.05;
const detector = codecDetectorDelay(threshold);
const lookaheadMs = da.lookaheadSamples / SAMPLES_PER_MS;
const mono = new Float32Array(db.recorded.length >> 1);
for (let i = 0; i < mono.length; i++) mono[i] = Math.max(Math.abs(db.recorded[2 * i]!), Math.abs(db.recorded[2 * i + 1]!));
const latencies: number[] = [];
let from = 0;
for (const inj of da.injections) {
  const k = onset(mono, threshold * Math.SQRT1_2, from);
  if (k < 0) break;
  const n = Math.floor(k / FRAME_SAMPLES);
  const playedAt = db.playbackFrameTimes[n]! + (k - n * FRAME_SAMPLES) / SAMPLES_PER_MS;
  // The detector fires `detector` samples after the true onset, of which the
  // look-ahead is real latency and the rest is the burst's attack.
  const trueOnsetPlayedAt = playedAt - (detector - da.lookaheadSamples) / SAMPLES_PER_MS;
  latencies.push(trueOnsetPlayedAt - inj.capturedAtMs);
  from = k + 200 * SAMPLES_PER_MS;
}
const firstBurst = latencies.shift() ?? NaN;
const m2e = median(latencies);
const networkMs = median(rtts) / 2;
const holdMs = median(holds);
// The parts add up to mouthToEarMs: the rest after framing, look-ahead, the
// trip A → server → B (half the keep-alive round trip, which includes sealing
// and the server's forwarding) and the hold is the wait for B's next playout
// tick once the hold is over (20 ms minus the trip when the clocks tick together).
const captureFramingMs = 20;
const playoutWaitMs = m2e - captureFramingMs - lookaheadMs - holdMs - networkMs;
process.stdout.write(
  JSON.stringify({
    bench: 'latency',
    bursts: latencies.length,
    mouthToEarMs: r2(m2e),
    minMs: r2(Math.min(...latencies)),
    maxMs: r2(Math.max(...latencies)),
    firstBurstMs: r2(firstBurst),
    floorMs: r2(FLOOR_MS),
    overFloorMs: r2(m2e - FLOOR_MS),
    parts: {
      captureFramingMs,
      encoderLookaheadMs: r2(lookaheadMs),
      encodeCpuMs: r2(capCpu / 1000),
      networkMsHalfRtt: r2(networkMs),
      jitterHoldMs: r2(holdMs),
      playoutTickWaitMs: r2(playoutWaitMs),
      decodeAndMixCpuMs: r2(playCpu / 1000),
    },
  }) + '\n',
);
process.exit(0);
