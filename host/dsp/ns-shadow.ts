// Runs the noise suppressor over a (speech + noise) mixture and "shadow
// filters" the speech and the noise alone with the very gains it computed on
// the mixture (the ns guest's measurement export hearth_ns_shadow). The
// suppressor is linear once its gains are fixed, so output = speech' + noise'
// to rounding, and attenuation and speech distortion can be measured
// separately on speech' and noise' instead of being guessed from pauses
// (docs/DSP.md "Measures").
//
// The guest runs in the same sandbox as in the capture chain (Extism in the
// foreground, no WASI, capability-checked host functions, memory cap), in
// this thread: the first frame through on_audio_raw (where it reads its
// config), then every frame through the zero-copy hearth_frame_process, as
// the chain thread does.
import { GuestHostApi } from '../plugins/host-api.js';
import { instantiateGuest } from '../plugins/extism-guest.js';
import { prepareGuest } from '../plugins/chain/chain-guests.js';
import type { PluginManifest } from '../plugins/manifest.js';
import { activeFrames, activeLevelDbfs, attenuationDb, energy, levelDbfs, logSpectralDistanceDb, segmentalSnrDb } from './spectral.js';
import { stoi } from './stoi.js';

export const FRAME = 960;
/** The suppressor's latency (one 10 ms hop); outputs are returned with it taken out. */
export const NS_DELAY = 480;

export interface ShadowResult {
  /** The suppressor's output for the mixture, latency removed. */
  output: Float32Array;
  /** The speech / the noise through the same gains, latency removed. */
  speech: Float32Array;
  noise: Float32Array;
  /** CPU per 20 ms frame of hearth_frame_process (ms): p50, p99, mean. */
  msP50: number;
  msP99: number;
  msMean: number;
  /** The guest's stats after the last frame, by manifest name. */
  stats: Record<string, number>;
}

export interface ShadowOptions {
  manifest: PluginManifest;
  wasm: Uint8Array;
  config?: Record<string, unknown>;
  /** Observe every frame's stats (frame index, values by name). */
  onStats?: (frame: number, stats: Record<string, number>) => void;
}

function advance(x: Float32Array, delay: number, len: number): Float32Array {
  const out = new Float32Array(len);
  out.set(x.subarray(delay, delay + len));
  return out;
}

/** One ns guest instance driven frame by frame in this thread (no resets: its reference behaviour). */
export interface NsGuestHandle {
  /** Processes one 960-sample frame in place (the first through on_audio_raw, or all when `extismEveryFrame`). Returns its CPU time (ms). */
  process(frame: Float32Array): Promise<number>;
  /** Filters `frame` in place through shadow signal `ch` with the gains of the last process(). */
  shadow(ch: 0 | 1, frame: Float32Array): void;
  /** The stats the guest published after its last frame, by manifest name. */
  stats(): Record<string, number>;
  close(): Promise<void>;
}

export async function openNsGuest(o: ShadowOptions & { extismEveryFrame?: boolean }): Promise<NsGuestHandle> {
  const prepared = await prepareGuest({ manifest: o.manifest, wasm: o.wasm, grants: o.manifest.capabilities, config: o.config ?? {}, slot: 'ns' });
  const init = prepared.init;
  const api = new GuestHostApi({ pluginId: init.pluginId, grants: new Set(init.grants), config: init.config, kv: [], state: null, storageBytes: 0, hostAllocBytes: init.memoryMiB * 1024 * 1024 });
  const inst = await instantiateGuest(init.module, api, { grants: init.grants, config: init.config, memoryMiB: init.memoryMiB });
  const ex = inst.exports as { hearth_frame_buffer: () => number; hearth_frame_process: () => number; hearth_ns_shadow?: (ch: number) => number };
  const ptr = Number(ex.hearth_frame_buffer());
  const view = () => new Float32Array(inst.memory!.buffer, ptr, 2 * FRAME + 16);
  let calls = 0;
  return {
    async process(frame) {
      const t0 = performance.now();
      if (calls++ === 0 || o.extismEveryFrame) {
        api.beginCall();
        const out = await inst.plugin.call('on_audio_raw', new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength).slice());
        const bytes = out?.bytes();
        if (!bytes || bytes.byteLength !== FRAME * 4) throw new Error(`on_audio_raw answered ${bytes?.byteLength ?? 0} bytes`);
        frame.set(new Float32Array(bytes.slice().buffer));
      } else {
        view().set(frame, 0);
        const rc = ex.hearth_frame_process();
        if (rc !== 0) throw new Error(`hearth_frame_process returned ${rc}`);
        frame.set(view().subarray(0, FRAME));
      }
      return performance.now() - t0;
    },
    shadow(ch, frame) {
      if (typeof ex.hearth_ns_shadow !== 'function') throw new Error(`${init.pluginId} has no hearth_ns_shadow export: not the ns guest`);
      const v = view();
      v.set(frame, FRAME);
      if (ex.hearth_ns_shadow(ch) !== 0) throw new Error('hearth_ns_shadow failed');
      frame.set(v.subarray(FRAME, 2 * FRAME));
    },
    stats() {
      const v = view();
      const out: Record<string, number> = {};
      prepared.statNames.forEach((name, i) => (out[name] = v[2 * FRAME + i]!));
      return out;
    },
    close: () => inst.plugin.close(),
  };
}

export async function runNsShadow(speech: Float32Array, noise: Float32Array, o: ShadowOptions): Promise<ShadowResult> {
  const len = Math.min(speech.length, noise.length);
  const guest = await openNsGuest(o);
  try {
    const frames = Math.ceil((len + NS_DELAY) / FRAME);
    const total = frames * FRAME;
    const s = new Float32Array(total);
    const n = new Float32Array(total);
    s.set(speech.subarray(0, len));
    n.set(noise.subarray(0, len));
    const outMix = new Float32Array(total);
    const outS = s.slice();
    const outN = n.slice();
    for (let i = 0; i < len; i++) outMix[i] = s[i]! + n[i]!;
    const times = new Float64Array(frames);
    for (let f = 0; f < frames; f++) {
      const at = f * FRAME;
      times[f] = await guest.process(outMix.subarray(at, at + FRAME));
      guest.shadow(0, outS.subarray(at, at + FRAME));
      guest.shadow(1, outN.subarray(at, at + FRAME));
      o.onStats?.(f, guest.stats());
    }
    // The first call goes through Extism (JSON config, blocks): leave it out of the CPU figure.
    const t = Float64Array.from(times.subarray(1)).sort();
    const mean = t.reduce((a, b) => a + b, 0) / Math.max(1, t.length);
    return {
      output: advance(outMix, NS_DELAY, len),
      speech: advance(outS, NS_DELAY, len),
      noise: advance(outN, NS_DELAY, len),
      msP50: t[t.length >> 1] ?? 0,
      msP99: t[Math.floor(t.length * 0.99)] ?? 0,
      msMean: mean,
      stats: guest.stats(),
    };
  } finally {
    await guest.close();
  }
}

// ---- the noise-suppression cases and their measures (docs/DSP.md "Measures") ----

export interface NsCase {
  name: string;
  /** Clean speech and the scaled noise, same length. */
  speech: Float32Array;
  noise: Float32Array;
  snrDb: number;
}

/** Measurement starts here: the first 0.5 s is the noise estimate's start-up. */
export const NS_SETTLE_S = 0.5;

/**
 * How a case's SNR is defined (docs/DSP.md "Noise-suppression cases"):
 * - 'power': the speech's mean power over the noise's, both over the whole cut. The
 *   usual definition, and the one issue 9's figures were measured with: it reproduces the
 *   issue's noisy distortion on pink 5 dB (21.93 dB against its 21.9).
 * - 'active': the speech's active level (activeLevelDbfs, the frames within 40 dB of the
 *   loudest) over the noise's mean power, a stand-in for ITU-T P.56. It puts 0.7 dB more
 *   noise into speech-a (83% active): noisy pink 5 dB 22.46 dB. The bench used it until
 *   stop 22 and still reports it.
 */
export type SnrDefinition = 'power' | 'active';

/** speech + noise at `snrDb` (by `snrBy`), both cut to the shorter of the two. */
export function makeNsCase(name: string, speech: Float32Array, noise: Float32Array, snrDb: number, snrBy: SnrDefinition = 'power'): NsCase {
  const len = Math.min(speech.length, noise.length);
  const s = speech.slice(0, len);
  const n = noise.slice(0, len);
  const speechDb = snrBy === 'power' ? levelDbfs(s) : activeLevelDbfs(s);
  const g = 10 ** ((speechDb - levelDbfs(n) - snrDb) / 20);
  for (let i = 0; i < len; i++) n[i] = n[i]! * g;
  return { name, speech: s, noise: n, snrDb };
}

export interface NsFigures {
  /**
   * Noise energy in / noise energy out through the same gains (shadow
   * filtering), after NS_SETTLE_S, over the noise-only 20 ms frames: those
   * where the clean speech is more than 40 dB below its loudest frame.
   */
  attenuationDb: number;
  /** The same over every frame after NS_SETTLE_S (speech and pauses). */
  attenuationAllDb: number;
  /** Log-spectral distance of the output from the clean speech (logSpectralDistanceDb), and of the noisy input. */
  distortionDb: number;
  noisyDistortionDb: number;
  /** The same for the shadow-filtered speech alone (what the gains do to the speech). */
  speechDistortionDb: number;
  stoi: number;
  noisyStoi: number;
  /** Active level of the shadow-filtered speech minus that of the clean speech. */
  speechLevelDb: number;
  segSnrDb: number;
  noisySegSnrDb: number;
}

/** Shadow attenuation over the 20 ms frames from `from` on where `speech` is > 40 dB below its loudest frame. */
export function pauseAttenuationDb(speech: Float32Array, noise: Float32Array, noiseOut: Float32Array, from: number): number {
  const len = 960;
  const active = new Set(activeFrames(speech, len, len));
  let ein = 0;
  let eout = 0;
  for (let s = Math.ceil(from / len) * len; s + len <= speech.length; s += len) {
    if (active.has(s)) continue;
    ein += energy(noise, s, s + len);
    eout += energy(noiseOut, s, s + len);
  }
  return 10 * Math.log10(Math.max(ein, 1e-30) / Math.max(eout, 1e-30));
}

export function measureNs(c: NsCase, r: Pick<ShadowResult, 'output' | 'speech' | 'noise'>, sampleRate = 48_000): NsFigures {
  const from = Math.round(NS_SETTLE_S * sampleRate);
  const noisy = new Float32Array(c.speech.length);
  for (let i = 0; i < noisy.length; i++) noisy[i] = c.speech[i]! + c.noise[i]!;
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    attenuationDb: r2(pauseAttenuationDb(c.speech, c.noise, r.noise, from)),
    attenuationAllDb: r2(attenuationDb(c.noise, r.noise, from)),
    distortionDb: r2(logSpectralDistanceDb(c.speech, r.output)),
    noisyDistortionDb: r2(logSpectralDistanceDb(c.speech, noisy)),
    speechDistortionDb: r2(logSpectralDistanceDb(c.speech, r.speech)),
    stoi: r3(stoi(c.speech, r.output, sampleRate)),
    noisyStoi: r3(stoi(c.speech, noisy, sampleRate)),
    speechLevelDb: r2(activeLevelDbfs(c.speech, r.speech) - activeLevelDbfs(c.speech)),
    segSnrDb: r2(segmentalSnrDb(c.speech, r.output)),
    noisySegSnrDb: r2(segmentalSnrDb(c.speech, noisy)),
  };
}
