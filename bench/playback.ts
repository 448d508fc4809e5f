// CPU per 20 ms frame of the client's playback path: per speaker, the jitter
// buffer and the Opus decode (SpeakerPlayout), then the stereo mix and the
// limiter, for 1, 5 and 10 simultaneous speakers fed real Opus packets of the
// speech fixture. Prints one JSON line.
// Usage: node dist/bench/playback.js [frames]
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { FRAME_MS, FRAME_SAMPLES, PLAYBACK_CHANNELS } from '../host/client/audio/format.js';
import { Mixer, type MixSource } from '../host/client/audio/mixer.js';
import { OpusEncoder } from '../host/client/audio/opus.js';
import { SpeakerPlayout } from '../host/client/audio/speaker.js';
import { readWav } from '../host/client/audio/wav.js';

const FRAMES = Math.max(2000, Number(process.argv[2] ?? 3000));
const WARMUP = 250;
const COUNTS = [1, 5, 10];

const speech = readWav(fileURLToPath(new URL('../../test/fixtures/speech.wav', import.meta.url))).samples;
const encoder = new OpusEncoder({ expectedLossPercent: 5 });
const packets: Uint8Array[] = [];
for (let f = 0; (f + 1) * FRAME_SAMPLES <= speech.length; f++) {
  packets.push(encoder.encode(speech.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES)).slice());
}
encoder.close();

// Deterministic network jitter (0..15 ms) so the jitter buffer sorts and reorders as it would live.
let seed = 12345;
const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function run(count: number): { p50Ms: number; p99Ms: number; meanMs: number } {
  const speakers = Array.from({ length: count }, () => new SpeakerPlayout());
  const sources: MixSource[] = speakers.map((_, k) => ({
    pcm: new Float32Array(FRAME_SAMPLES),
    gain: 1,
    pan: count === 1 ? 0 : -1 + (2 * k) / (count - 1),
  }));
  const active: MixSource[] = [];
  const mixer = new Mixer();
  const out = new Float32Array(FRAME_SAMPLES * PLAYBACK_CHANNELS);
  const times = new Float64Array(FRAMES);
  // Packets of frame `seq` for every speaker, each speaker at its own place in the fixture.
  const pending: { seq: number; at: number }[][] = speakers.map(() => []);
  let sink = 0;
  for (let t = 0; t < WARMUP + FRAMES; t++) {
    const now = t * FRAME_MS;
    for (let k = 0; k < count; k++) pending[k]!.push({ seq: t, at: now + rnd() * 15 });
    const t0 = process.hrtime.bigint();
    active.length = 0;
    for (let k = 0; k < count; k++) {
      const q = pending[k]!;
      while (q.length > 0 && q[0]!.at <= now) {
        const p = q.shift()!;
        speakers[k]!.push(p.seq, packets[(p.seq + k * 37) % packets.length]!, p.at);
      }
      if (speakers[k]!.pull(now, sources[k]!.pcm)) active.push(sources[k]!);
    }
    mixer.mix(active, out);
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    if (t >= WARMUP) times[t - WARMUP] = dt;
    sink += out[0]!;
  }
  for (const sp of speakers) sp.close();
  if (sink === 0.5) process.stderr.write('unreachable\n'); // keep the output observable
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  times.sort();
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { p50Ms: r(percentile(times, 0.5)), p99Ms: r(percentile(times, 0.99)), meanMs: r(mean) };
}

const result: Record<string, { p50Ms: number; p99Ms: number; meanMs: number; budgetP50: number; budgetP99: number }> = {};
for (const n of COUNTS) {
  const m = run(n);
  const frac = (ms: number): number => Math.round((ms / FRAME_MS) * 10_000) / 10_000;
  result[`speakers${n}`] = { ...m, budgetP50: frac(m.p50Ms), budgetP99: frac(m.p99Ms) };
}
process.stdout.write(
  JSON.stringify({
    bench: 'playback',
    frames: FRAMES,
    opusBytesPerPacket: Math.round(packets.reduce((a, p) => a + p.length, 0) / packets.length),
    ...result,
    target10SpeakersP99Ms: 2,
    withinTarget: result.speakers10!.p99Ms < 2,
    // The machine may be shared: how busy it was (p99 is what other processes disturb first).
    loadAvg1: Math.round(loadavg()[0]! * 100) / 100,
  }) + '\n',
);
