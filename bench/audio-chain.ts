// Cost of the capture chain's plugin hop. Prints one JSON line.
// Usage: node dist/bench/audio-chain.js [frames-per-case]
//
// Everything runs in a worker thread, as in the client, whose audio engine
// is a worker blocking in Atomics.wait (the main thread could not block).
//
// Cases (AudioChain: all guests in ONE chain thread, one hop per frame):
//   chain0         no guest: the bare hop (hand-off, wake-up, answer)
//   passthru1/4    1 / 4 copies of the passthru test guest, which answers its
//                  input block without copying it: host cost per guest call
//   gain4          4 copies of the shipped gain effect: a real frame in and
//                  out through Extism's ABI (8 bytes per host call)
// For each: the whole hop (µs p50/p99/max, measured around process()), the
// guests' own time (Σ of the per-guest elapsed the chain thread measured)
// and the host overhead per guest call = (hop - guest time) / guests, p50
// over frames (for 0 guests: the hop itself).
// Same-run baseline: the per-plugin sandbox path (PluginHost.callAudioSync,
// one sandbox thread per plugin, as bench/plugin-call.ts does) with 1 and 4
// gain plugins (audioSync: one hop per guest).
// Targets: <= 20 µs host overhead per guest call p50, <= 200 µs hop p99.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../host/log/logger.js';
import { parseManifest, sha256Hex, type PluginManifest } from '../host/plugins/manifest.js';
import { PluginHost } from '../host/plugins/runtime.js';
import { AudioChain, type ChainGuest } from '../host/plugins/chain/audio-chain.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Generous limits: this measures cost, not the bypass policy.
const LIMITS = { memoryMiB: 4, callMs: 1000, killMs: 10_000, overrunLimit: 100, storageKiB: 0 };

function gain(id: string): { manifest: PluginManifest; wasm: Uint8Array } {
  const raw = JSON.parse(readFileSync(join(root, 'manifests', 'gain.json'), 'utf8')) as Record<string, unknown>;
  const manifest = parseManifest({ ...raw, id, limits: LIMITS });
  return { manifest, wasm: new Uint8Array(readFileSync(join(root, 'guests', 'gain', 'build', 'gain.wasm'))) };
}

function passthru(id: string): { manifest: PluginManifest; wasm: Uint8Array } {
  const wasm = new Uint8Array(readFileSync(join(root, 'test', 'plugins', 'guests', 'build', 'passthru.wasm')));
  const manifest = parseManifest({
    manifestVersion: 1,
    id,
    name: 'passthru',
    version: '0.0.1',
    wasm: { file: 'passthru.wasm', sha256: sha256Hex(wasm) },
    hooks: ['on_audio_raw'],
    capabilities: ['audio.intercept'],
    limits: LIMITS,
  });
  return { manifest, wasm };
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

function quantiles(t: Float64Array): { p50: number; p99: number; max: number } {
  const s = Float64Array.from(t).sort();
  return { p50: r1(s[s.length >> 1]!), p99: r1(s[Math.floor(s.length * 0.99)]!), max: r1(s[s.length - 1]!) };
}

const mic = new Float32Array(960).map((_, i) => Math.sin(i / 7) * 0.5);
const reference = new Float32Array(960);
const out = new Float32Array(960);

async function chainCase(make: (i: number) => { manifest: PluginManifest; wasm: Uint8Array }, n: number, frames: number) {
  const guests: ChainGuest[] = [];
  for (let i = 0; i < n; i++) {
    const g = make(i);
    guests.push({ ...g, grants: g.manifest.capabilities, config: g.manifest.id.startsWith('gain') ? { gain: 0.5 } : {} });
  }
  const t0 = performance.now();
  const chain = await AudioChain.start({ guests });
  const startMs = r1(performance.now() - t0);
  const warmup = Math.max(500, frames >> 2);
  for (let i = 0; i < warmup; i++) chain.process(mic, reference, out, 1000);
  const hop = new Float64Array(frames);
  const guest = new Float64Array(frames);
  const overhead = new Float64Array(frames);
  for (let i = 0; i < frames; i++) {
    const a = performance.now();
    const r = chain.process(mic, reference, out, 1000);
    const us = (performance.now() - a) * 1000;
    if (!r.processed) throw new Error(`frame ${i}: ${r.status}`);
    hop[i] = us;
    guest[i] = r.guestUs;
    overhead[i] = n ? (us - r.guestUs) / n : us;
  }
  const st = chain.stats();
  await chain.close();
  if (st.hops !== st.frames) throw new Error(`hops ${st.hops} != frames ${st.frames}`);
  const h = quantiles(hop);
  return { guests: n, startMs, hopP50: h.p50, hopP99: h.p99, hopMax: h.max, guestP50: quantiles(guest).p50, overheadPerGuestP50: quantiles(overhead).p50, overheadPerGuestP99: quantiles(overhead).p99, hops: st.hops };
}

async function sandboxCase(n: number, frames: number) {
  const host = new PluginHost({ logger: silentLogger() });
  try {
    for (let i = 0; i < n; i++) {
      const g = gain(`gain${i}`);
      await host.load({ ...g, grants: g.manifest.capabilities, config: { gain: 0.5 } });
    }
    const warmup = Math.max(500, frames >> 2);
    for (let i = 0; i < warmup; i++) host.audioSync(mic);
    const t = new Float64Array(frames);
    for (let i = 0; i < frames; i++) {
      const a = performance.now();
      host.audioSync(mic);
      t[i] = (performance.now() - a) * 1000;
    }
    const guestUs = host.list().reduce((s, p) => s + p.stats.lastUs, 0);
    const q = quantiles(t);
    return { guests: n, hopsPerFrame: n, p50: q.p50, p99: q.p99, max: q.max, lastGuestUs: guestUs };
  } finally {
    await host.close();
  }
}

async function run(frames: number) {
  const chain0 = await chainCase((i) => passthru(`passthru${i}`), 0, frames);
  const passthru1 = await chainCase((i) => passthru(`passthru${i}`), 1, frames);
  const passthru4 = await chainCase((i) => passthru(`passthru${i}`), 4, frames);
  const gain4 = await chainCase((i) => gain(`gain${i}`), 4, frames);
  const sandboxGain1 = await sandboxCase(1, frames);
  const sandboxGain4 = await sandboxCase(4, frames);
  return {
    bench: 'audio-chain',
    frames,
    node: process.version,
    extism: '2.0.0-rc13',
    thread: 'worker (Atomics.wait, as the audio engine)',
    unit: 'us',
    chain: { chain0, passthru1, passthru4, gain4 },
    sandboxBaseline: { gain1: sandboxGain1, gain4: sandboxGain4 },
    targets: {
      overheadPerGuestP50: { target: 20, passthru4: passthru4.overheadPerGuestP50, gain4: gain4.overheadPerGuestP50 },
      hopP99: { target: 200, passthru4: passthru4.hopP99, gain4: gain4.hopP99 },
    },
    gain4SandboxOverChainP50: r1(sandboxGain4.p50 / gain4.hopP50),
    gain4SandboxOverChainP99: r1(sandboxGain4.p99 / gain4.hopP99),
    // The machine is shared: how busy it was (p99 figures swing with it).
    loadAvg1: r1(loadavg()[0]!),
  };
}

if (isMainThread) {
  const frames = Number(process.argv[2] ?? 5000);
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { frames } });
  worker.on('message', (line: string) => process.stdout.write(line + '\n'));
  worker.on('error', (err) => {
    process.stderr.write(`audio-chain bench failed: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  });
} else {
  parentPort!.postMessage(JSON.stringify(await run((workerData as { frames: number }).frames)));
}
