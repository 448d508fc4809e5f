// Per-call host overhead of the plugin runtime. Prints one JSON line.
// Usage: node dist/bench/plugin-call.js [calls-per-case]
//
// Cases (guests from guests/, built by scripts/build-guests.mjs):
//   noop        on_timer of the noop guest (the guest does nothing)
//   chat        on_chat of the noop guest (parses the JSON message, answers allow)
//   audioJson   on_audio of the gain guest, a 960-sample f32 frame as JSON
//   audioRaw    on_audio_raw of the gain guest, the frame as 3840 raw bytes
//
// Modes:
//   sandbox        the chosen mode: Extism rc13 foreground inside our own
//                  sandbox thread, SharedArrayBuffer channel; through the
//                  PluginHost API (JSON encode/validate, effects, stats).
//                  "Async" = main thread (Atomics.waitAsync), "sync" =
//                  blocking wait as the audio thread does it.
//   extismWorker   the baseline: Extism's own worker mode (runInWorker +
//                  timeoutMs), same guests, same JSON work, reset() every 1000.
//   foreground     Extism foreground on the calling thread: the floor, but a
//                  looping guest would hang the caller (not an option).
// Each case reports p50 / p99 / mean in µs.
//
// Also (bench/plugin-call-langs.ts): `languages`, the same bot in
// AssemblyScript, C and JavaScript (size, build, load, first call after load,
// a command, an event with three host calls), and `wordfilter`, the shipped
// filter's time per 19,000-character message with 500 words.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import createPlugin, { type Plugin } from '@extism/extism';
import { ChatOutput, EventOutput } from '../host/plugins/hooks.js';
import { silentLogger } from '../host/log/logger.js';
import { parseManifest, type PluginManifest } from '../host/plugins/manifest.js';
import { PluginHost } from '../host/plugins/runtime.js';
import { languageFigures, wordfilterFigures } from './plugin-call-langs.js';

const N = Number(process.argv[2] ?? 5000);
const WARMUP = Math.max(200, Math.floor(N / 5));
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function shipped(id: string): { manifest: PluginManifest; wasm: Uint8Array } {
  const raw = JSON.parse(readFileSync(join(root, 'manifests', `${id}.json`), 'utf8')) as Record<string, unknown>;
  // Generous limits: this measures cost, not the bypass policy.
  raw.limits = { ...(raw.limits as object), callMs: 1000, killMs: 10_000, overrunLimit: 100 };
  const manifest = parseManifest(raw);
  return { manifest, wasm: new Uint8Array(readFileSync(join(root, 'guests', id, 'build', manifest.wasm.file))) };
}

interface Figures {
  p50: number;
  p99: number;
  mean: number;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

/** The JSON audio cases cost ~1.5 ms each: they run a fifth of the calls. */
const N_SLOW = Math.max(200, Math.floor(N / 5));

function figures(t: Float64Array): Figures {
  const sorted = Array.from(t).sort((a, b) => a - b);
  const n = sorted.length;
  return { p50: r1(sorted[n >> 1]!), p99: r1(sorted[Math.floor(n * 0.99)]!), mean: r1(sorted.reduce((a, b) => a + b, 0) / n) };
}

async function measure(fn: () => unknown, n = N): Promise<Figures> {
  for (let i = 0; i < Math.min(WARMUP, n); i++) await fn();
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    await fn();
    t[i] = (performance.now() - a) * 1000;
  }
  return figures(t);
}

function measureSync(fn: () => unknown, n = N): Figures {
  for (let i = 0; i < Math.min(WARMUP, n); i++) fn();
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    fn();
    t[i] = (performance.now() - a) * 1000;
  }
  return figures(t);
}

const frame = new Float32Array(960).map((_, i) => Math.sin(i / 7) * 0.5);
const chatEvent = { channelId: 1, user: { id: 7, name: 'ann' }, text: 'hello there, how is everyone doing today?', ts: Date.now() };
let tick = 0;
const fail = (what: string, o: { status: string }): never => {
  throw new Error(`${what}: ${o.status}`);
};

// ---- the chosen mode: PluginHost sandbox threads ------------------------------------
const host = new PluginHost({ logger: silentLogger() });
const loadStart = performance.now();
const noop = shipped('noop');
await host.load({ manifest: noop.manifest, wasm: noop.wasm, grants: noop.manifest.capabilities });
const sandboxStartMs = r1(performance.now() - loadStart);
const gain = shipped('gain');
await host.load({ manifest: gain.manifest, wasm: gain.wasm, grants: gain.manifest.capabilities, config: { gain: 0.5 } });

const sandbox = {
  noop: await measure(async () => {
    const o = await host.callJson('noop', 'on_timer', { tick: tick++, now: Date.now() }, EventOutput, true);
    if (o.status !== 'ok') fail('noop', o);
  }),
  chat: await measure(async () => {
    const o = await host.callJson('noop', 'on_chat', chatEvent, ChatOutput);
    if (o.status !== 'ok') fail('chat', o);
  }),
  audioJson: await measure(async () => {
    const o = await host.callAudio('gain', frame, 'json');
    if (o.status !== 'ok') fail('audioJson', o);
  }, N_SLOW),
  audioRaw: await measure(async () => {
    const o = await host.callAudio('gain', frame, 'raw');
    if (o.status !== 'ok') fail('audioRaw', o);
  }),
  audioJsonSync: measureSync(() => {
    const o = host.callAudioSync('gain', frame, 'json');
    if (o.status !== 'ok') fail('audioJsonSync', o);
  }, N_SLOW),
  audioRawSync: measureSync(() => {
    const o = host.callAudioSync('gain', frame, 'raw');
    if (o.status !== 'ok') fail('audioRawSync', o);
  }),
};
const guestUs = { gainJson: 0, gainRaw: 0 };
for (const [fmt, key] of [['json', 'gainJson'], ['raw', 'gainRaw']] as const) {
  const o = await host.callAudio('gain', frame, fmt);
  if (o.status === 'ok') guestUs[key] = o.elapsedUs;
}

// Memory of a sandbox thread: RSS growth per extra loaded plugin.
const rssBefore = process.memoryUsage().rss;
const EXTRA = 4;
for (let i = 0; i < EXTRA; i++) {
  const m = parseManifest({ ...noop.manifest, id: `noop-extra-${i}` });
  await host.load({ manifest: m, wasm: noop.wasm, grants: [] });
}
const rssPerSandboxMiB = r1((process.memoryUsage().rss - rssBefore) / EXTRA / 1024 / 1024);
await host.close();

// ---- Extism directly: worker mode (baseline) and foreground (floor) -------------------
const stubs = {
  'extism:host/user': {
    hearth_abort: () => 0n,
    hearth_config_get: (cp: { store(s: string): bigint }) => cp.store('{"ok":true,"config":{"gain":0.5}}'),
  },
};

async function extismCases(runInWorker: boolean) {
  const opts = { useWasi: false, allowedHosts: [], allowedPaths: {}, functions: stubs, ...(runInWorker ? { runInWorker: true, timeoutMs: 1000 } : {}) };
  const started = performance.now();
  const pNoop: Plugin = await createPlugin({ wasm: [{ data: noop.wasm }] }, opts);
  const startMs = r1(performance.now() - started);
  const pGain: Plugin = await createPlugin({ wasm: [{ data: gain.wasm }] }, opts);
  let calls = 0;
  const call = async (p: Plugin, hook: string, input: string | Uint8Array) => {
    const out = await p.call(hook, input);
    if (++calls % 1000 === 0) await p.reset();
    return out;
  };
  const figures = {
    noop: await measure(async () => {
      const out = await call(pNoop, 'on_timer', JSON.stringify({ tick: tick++, now: Date.now() }));
      if (out && out.bytes().length) JSON.parse(out.text());
    }),
    chat: await measure(async () => {
      const out = await call(pNoop, 'on_chat', JSON.stringify(chatEvent));
      ChatOutput.parse(JSON.parse(out!.text()));
    }),
    audioJson: await measure(async () => {
      const out = await call(pGain, 'on_audio', JSON.stringify({ samples: Array.from(frame), sampleRate: 48000, channels: 1 }));
      const v = JSON.parse(out!.text()) as { samples: number[] };
      if (v.samples.length !== 960) throw new Error('bad frame');
    }, N_SLOW),
    audioRaw: await measure(async () => {
      const out = await call(pGain, 'on_audio_raw', new Uint8Array(frame.buffer.slice(0)));
      if (new Float32Array(out!.bytes().slice().buffer).length !== 960) throw new Error('bad frame');
    }),
  };
  await pNoop.close();
  await pGain.close();
  return { startMs, ...figures };
}

const languages = await languageFigures(measure, Math.min(N, 2000));
const wordfilter = await wordfilterFigures(root, 50);

const extismWorker = await extismCases(true);
const foreground = await extismCases(false);

const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;
const cases = ['noop', 'chat', 'audioJson', 'audioRaw'] as const;
process.stdout.write(
  JSON.stringify({
    bench: 'plugin-call',
    calls: N,
    node: process.version,
    extism: '2.0.0-rc13',
    chosen: 'sandbox (Extism foreground in an own worker thread, SharedArrayBuffer channel)',
    unit: 'us per call',
    sandbox: { startMs: sandboxStartMs, rssPerSandboxMiB, guestUs, ...sandbox },
    extismWorker,
    foreground,
    workerOverSandboxP50: Object.fromEntries(cases.map((c) => [c, ratio(extismWorker[c].p50, sandbox[c].p50)])),
    workerOverSandboxP99: Object.fromEntries(cases.map((c) => [c, ratio(extismWorker[c].p99, sandbox[c].p99)])),
    jsonOverRawP50: ratio(sandbox.audioJson.p50, sandbox.audioRaw.p50),
    languages,
    wordfilter,
  }) + '\n',
);
