// Runs one audio guest over whole signals, frame by frame, the way the
// client's capture chain calls it: through AudioChain (its own chain thread,
// the same sandbox, limits, zero-copy path and bypass policy) with the
// client's per-frame deadline. `hearth plugin test` and the DSP tests and bench
// share this loop, so a figure measured offline is the figure of the client.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { AudioChain, type AudioChainStats, type ChainReport } from '../plugins/chain/audio-chain.js';
import { FRAME_SAMPLES, type AudioSlot } from '../plugins/hooks.js';
import { audioSlotOf, loadPluginFiles, readManifestFile, type PluginManifest } from '../plugins/manifest.js';

/** The client's capture deadline (host/client/audio/capture-pipeline.ts CHAIN_DEADLINE_MS). */
export const DEFAULT_DEADLINE_MS = 8;
/** Silent frames run first and not counted: a fresh chain thread runs cold. */
export const DEFAULT_WARMUP = 20;
const FRAME_MS = 20;

export interface ChainRunOptions {
  manifest: PluginManifest;
  wasm: Uint8Array;
  grants: Iterable<string>;
  config?: Record<string, unknown>;
  slot: AudioSlot;
  input: Float32Array;
  /** The far-end reference (echo canceller); silence after its end. */
  reference?: Float32Array | null;
  deadlineMs?: number;
  warmup?: number;
  onReport?: (r: ChainReport) => void;
  /** Called after every counted frame that the chain processed (frame index, the chain). */
  onFrame?: (frame: number, chain: AudioChain) => void;
  /** Extism reset() interval (AudioChain default 1000). */
  resetEvery?: number;
}

export interface ChainRun {
  out: Float32Array;
  frames: number;
  /** The guest's own time of each processed frame (µs), in frame order. */
  guestUs: Float64Array;
  /** The hand-off to the chain thread and back of each processed frame (µs). */
  hopUs: Float64Array;
  /** Frames the chain answered in time (length of guestUs / hopUs). */
  answered: number;
  /** Bypassed frames of the guest while the input ran, and late frames of the chain. */
  bypassed: number;
  lateFrames: number;
  /** The chain's stats at the end (after a still-running call finished). */
  stats: AudioChainStats;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The frame loop of `hearth plugin test`, over in-memory signals. */
export async function runAudioChain(o: ChainRunOptions): Promise<ChainRun> {
  const deadlineMs = o.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const chain = await AudioChain.start({
    guests: [{ manifest: o.manifest, wasm: o.wasm, grants: o.grants, config: o.config ?? {}, slot: o.slot }],
    ...(o.onReport ? { onReport: o.onReport } : {}),
    ...(o.resetEvery ? { resetEvery: o.resetEvery } : {}),
  });
  const samples = o.input;
  const reference = o.reference ?? null;
  const result = new Float32Array(samples.length);
  const frames = Math.ceil(samples.length / FRAME_SAMPLES);
  const guestUs = new Float64Array(frames);
  const hopUs = new Float64Array(frames);
  let answered = 0;
  let bypassed = 0;
  let lateFrames = 0;
  let stats: AudioChainStats;
  try {
    const mic = new Float32Array(FRAME_SAMPLES);
    const ref = new Float32Array(FRAME_SAMPLES);
    const frameOut = new Float32Array(FRAME_SAMPLES);
    for (let w = 0; w < (o.warmup ?? DEFAULT_WARMUP); w++) {
      if (!chain.process(mic, ref, frameOut, deadlineMs).processed) await sleep(FRAME_MS);
    }
    chain.resetStats();
    for (let f = 0; f < frames; f++) {
      const at = f * FRAME_SAMPLES;
      const n = Math.min(FRAME_SAMPLES, samples.length - at);
      mic.fill(0).set(samples.subarray(at, at + n));
      ref.fill(0);
      if (reference && at < reference.length) ref.set(reference.subarray(at, Math.min(at + FRAME_SAMPLES, reference.length)));
      const r = chain.process(mic, ref, frameOut, deadlineMs);
      result.set(frameOut.subarray(0, n), at);
      if (r.processed) {
        guestUs[answered] = r.guestUs;
        hopUs[answered++] = r.hopUs;
        o.onFrame?.(f, chain);
      } else {
        // A late or busy chain: let the time of the frame clock pass, as on the air.
        await sleep(FRAME_MS);
      }
    }
    const during = chain.stats();
    bypassed = during.guests[0]!.bypassed;
    lateFrames = during.lateFrames;
    // Let a call still running finish, so its time and any fault are counted.
    for (let i = 0; i < 50 && chain.process(mic, ref, frameOut, 100).status === 'busy'; i++) await sleep(FRAME_MS);
  } finally {
    stats = chain.stats();
    await chain.close();
  }
  return { out: result, frames, guestUs: guestUs.subarray(0, answered), hopUs: hopUs.subarray(0, answered), answered, bypassed, lateFrames, stats };
}

/** Next to the manifest (installed layout), else guests/<id>/build/ for a manifest in a checkout's manifests/. */
export function wasmPathFor(manifestPath: string, id: string, file: string): string {
  const beside = join(dirname(manifestPath), file);
  const shipped = join(dirname(manifestPath), '..', 'guests', id, 'build', file);
  if (!existsSync(beside) && basename(dirname(resolve(manifestPath))) === 'manifests' && existsSync(shipped)) return shipped;
  return beside;
}

export interface AecRun {
  out: Float32Array;
  /** Per frame: the stats the guest published after it (manifest audio.stats names; {} before the host copies them). */
  stats: Record<string, number>[];
  /** The guest's own time per processed frame (µs). */
  usPerFrame: number[];
  /** Frames that went out unprocessed (must be 0 for a figure to count). */
  bypassed: number;
}

export interface AecRunOptions {
  deadlineMs?: number;
  resetEvery?: number;
  /** Collect per-frame stats (one chain.stats() per frame; default true). */
  collectStats?: boolean;
  /**
   * Offline figures must not depend on how busy the machine is: by default the
   * guest's callMs / killMs are raised (1 s / 10 s) so that a scheduling hiccup
   * is not an overrun whose output is discarded. false keeps the manifest's.
   */
  patient?: boolean;
}

/**
 * Runs an echo canceller (or any audio guest; `reference` then unused) over
 * whole signals through the real capture chain, with audio.intercept and
 * config.read granted.
 */
export async function runAecOverSignals(
  manifestPath: string,
  mic: Float32Array,
  reference: Float32Array,
  config?: Record<string, unknown>,
  opts: AecRunOptions = {},
): Promise<AecRun> {
  const head = await readManifestFile(manifestPath);
  const files = await loadPluginFiles(manifestPath, { wasmPath: wasmPathFor(manifestPath, head.id, head.wasm.file) });
  const m = opts.patient === false ? files.manifest : { ...files.manifest, limits: { ...files.manifest.limits, callMs: 1000, killMs: 10_000 } };
  const slot = audioSlotOf(m);
  if (slot === null) throw new Error(`plugin ${m.id} has no raw audio hook`);
  const stats: Record<string, number>[] = [];
  const collect = opts.collectStats ?? true;
  const run = await runAudioChain({
    manifest: m,
    wasm: files.wasm,
    grants: m.capabilities.filter((c) => c === 'audio.intercept' || c === 'config.read'),
    config: config ?? {},
    slot,
    input: mic,
    reference,
    deadlineMs: opts.deadlineMs ?? 2000,
    ...(opts.resetEvery ? { resetEvery: opts.resetEvery } : {}),
    onFrame: collect
      ? (f, chain) => {
          stats[f] = chain.stats().guests[0]?.published ?? {};
        }
      : undefined,
  });
  return { out: run.out, stats, usPerFrame: Array.from(run.guestUs), bypassed: run.bypassed };
}

/** Reads a manifest's wasm the way runAecOverSignals finds it (for tests that start a chain themselves). */
export async function wasmOf(manifestPath: string): Promise<Uint8Array> {
  const head = await readManifestFile(manifestPath);
  return new Uint8Array(await readFile(wasmPathFor(manifestPath, head.id, head.wasm.file)));
}
