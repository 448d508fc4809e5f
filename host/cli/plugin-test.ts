// `hearth plugin test MANIFEST --input in.wav --output out.wav`: runs ONE
// audio plugin (any slot) over a 48 kHz mono WAV file, frame by frame, the
// way the client's capture chain calls it: through AudioChain (its own
// chain thread, the same sandbox, limits and bypass policy), with the
// far-end reference for an echo canceller, and the client's per-frame
// deadline. Writes the output WAV and prints one JSON line of its per-frame
// cost; reports (overruns, faults) go to stderr. Exits 1 when the plugin
// faulted or was killed (the output is still written: bypassed frames are
// the input unchanged, as on the air).
import { existsSync, readFileSync } from 'node:fs';
import { readWav, writeWav, type WavData } from '../client/audio/wav.js';
import type { ChainReport } from '../plugins/chain/audio-chain.js';
import { DEFAULT_DEADLINE_MS, DEFAULT_WARMUP, runAudioChain, wasmPathFor } from '../dsp/run-guest.js';
import { SAMPLE_RATE } from '../plugins/hooks.js';
import { audioSlotOf, loadPluginFiles, readManifestFile } from '../plugins/manifest.js';
import { CliError } from './admin.js';
import { err, out } from './output.js';

export interface PluginTestOptions {
  input: string;
  output: string;
  reference?: string;
  /** JSON text of the config, or the path of a JSON file. */
  config?: string;
  grantRequested?: boolean;
  wasm?: string;
  deadlineMs?: number;
  warmup?: number;
}

export interface PluginTestSummary {
  plugin: string;
  slot: string;
  frames: number;
  /** The guest's own time per frame (µs): p50 / p99 over the frames it answered in time, max over all. */
  usP50: number;
  usP99: number;
  usMax: number;
  /** The whole hand-off to the chain thread and back (µs). */
  hopUsP50: number;
  hopUsP99: number;
  overruns: number;
  /** Frames that went out without the plugin's effect (its overruns, late frames). */
  bypassed: number;
  lateFrames: number;
  state: string;
}

const MAX_OVERRUN_LINES = 5;

function readMono48k(path: string, what: string): WavData {
  let wav: WavData;
  try {
    wav = readWav(path);
  } catch (e) {
    throw new CliError(`${what}: ${(e as Error).message}`);
  }
  if (wav.sampleRate !== SAMPLE_RATE) throw new CliError(`${what} "${path}" is ${wav.sampleRate} Hz; the capture chain runs at ${SAMPLE_RATE} Hz`);
  if (wav.channels !== 1) throw new CliError(`${what} "${path}" has ${wav.channels} channels; the capture chain is mono`);
  return wav;
}

function parseConfig(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    if (!existsSync(text)) throw new CliError(`--config must be a JSON object or a JSON file; got ${JSON.stringify(text.slice(0, 60))}`);
    try {
      raw = JSON.parse(readFileSync(text, 'utf8'));
    } catch (e) {
      throw new CliError(`--config ${text}: ${(e as Error).message}`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CliError('--config must be a JSON object');
  return raw as Record<string, unknown>;
}

function positive(v: number | undefined, fallback: number, flag: string, min: number): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < min) throw new CliError(`${flag} must be a number >= ${min}, got ${v}`);
  return v;
}

function quantile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
}

export async function pluginTest(manifestPath: string, o: PluginTestOptions): Promise<PluginTestSummary> {
  const deadlineMs = positive(o.deadlineMs, DEFAULT_DEADLINE_MS, '--deadline-ms', 0.1);
  const warmup = Math.floor(positive(o.warmup, DEFAULT_WARMUP, '--warmup', 0));
  const config = parseConfig(o.config);
  const head = await readManifestFile(manifestPath);
  const files = await loadPluginFiles(manifestPath, { wasmPath: o.wasm ?? wasmPathFor(manifestPath, head.id, head.wasm.file) });
  const m = files.manifest;
  const slot = audioSlotOf(m);
  if (slot === null) throw new CliError(`plugin ${m.id} has no raw audio hook (on_audio_raw or on_aec_raw): nothing to test on audio`);
  // By default only what an audio test needs; config.read so that --config reaches it.
  const grants = o.grantRequested ? m.capabilities : m.capabilities.filter((c) => c === 'audio.intercept' || c === 'config.read');
  if (o.reference !== undefined && slot !== 'aec') throw new CliError(`--reference is for an echo canceller; ${m.id} fills the "${slot}" slot`);
  const input = readMono48k(o.input, 'input');
  const reference = o.reference !== undefined ? readMono48k(o.reference, 'reference') : null;

  let overrunLines = 0;
  const onReport = (r: ChainReport) => {
    if (r.kind === 'overrun' && ++overrunLines > MAX_OVERRUN_LINES) return;
    err(`hearth: ${r.pluginId}: ${r.kind}: ${r.message}`);
  };
  const run = await runAudioChain({ manifest: m, wasm: files.wasm, grants, config, slot, input: input.samples, reference: reference?.samples ?? null, deadlineMs, warmup, onReport });
  const { stats, frames, bypassed, lateFrames } = run;
  const result = run.out;
  await writeWav(o.output, result, { channels: 1, sampleRate: SAMPLE_RATE, format: input.format }).catch((e: Error) => {
    throw new CliError(`cannot write ${o.output}: ${e.message}`);
  });
  const g = stats.guests[0]!;
  const gs = run.guestUs.slice().sort();
  const hs = run.hopUs.slice().sort();
  const summary: PluginTestSummary = {
    plugin: m.id,
    slot,
    frames,
    usP50: quantile(gs, 0.5),
    usP99: quantile(gs, 0.99),
    usMax: Math.max(g.maxUs, quantile(gs, 1)),
    hopUsP50: quantile(hs, 0.5),
    hopUsP99: quantile(hs, 0.99),
    overruns: g.overruns,
    bypassed,
    lateFrames,
    state: g.state,
  };
  out(JSON.stringify(summary));
  if (g.state === 'faulted' || g.state === 'killed') throw new CliError(`plugin ${m.id} ${g.state}: ${g.message ?? 'see above'}`);
  return summary;
}
