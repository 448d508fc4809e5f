// ns: the capture chain's noise suppressor (slot "ns").
//
// Short-time Fourier processing with 50% overlap-add: a 960-sample (20 ms)
// sqrt-Hann window every 480 samples (10 ms), two hops per capture frame,
// zero-padded to a 1024-point FFT. sqrt-Hann analysis and synthesis windows
// at 50% overlap sum to exactly one, so with every gain at 1 the output is the
// input delayed by one hop: 480 samples, 10 ms, the whole added latency.
//
// Per hop: noise estimate (noise-estimate.ts), gain (gain.ts), inverse FFT,
// overlap-add. State lives in static arrays and globals; nothing is allocated
// per frame, and the Extism reset the chain does every 1,000 calls leaves it
// alone.
//
// Entry points (docs/PLUGINS.md §13): on_audio_raw (the reference path, and
// the first frame in the chain, where config is read) and the zero-copy
// hearth_frame_process; both run the same code on FRAME_BUFFER[0, 960).
// hearth_ns_shadow is for measurement only (docs/DSP.md "Measures").
import { config, inputF32Into, outputF32, Kind, frameGet, frameSet, statSet } from "../../sdk/assembly/index";
import { fft, fftInit, NFFT } from "./fft";
import { BINS, noise, noiseReset, noiseUpdate, presence } from "./noise-estimate";
import { computeGains, gainReset, gains } from "./gain";
import { modelGains, modelReset } from "./model";

export { hearth_frame_buffer } from "../../sdk/assembly/index";

const FRAME: i32 = 960;
const HOP: i32 = 480;
const WIN: i32 = 960;
/** Σ|Y(k)|² of a hop below which the input counts as digital silence (about −150 dBFS). */
const SILENCE: f32 = 1e-10;

let enabled = true;
/** The learned gain in bins 1..255 (model.ts); false: the classic rule everywhere. */
let learned = true;
let gmin: f32 = <f32>Math.pow(10, -30.0 / 20.0);
let configured = false;

const window = new StaticArray<f32>(WIN);
const re = new StaticArray<f32>(NFFT);
const im = new StaticArray<f32>(NFFT);
const power = new StaticArray<f32>(BINS);
/** The last WIN input samples of the main signal and of the two shadow signals. */
const history = new StaticArray<f32>(3 * WIN);
/** Overlap-add tails (HOP samples) of the main and shadow signals. */
const tail = new StaticArray<f32>(3 * HOP);
/** The gains of the last frame's two hops, re-applied by hearth_ns_shadow. */
const lastGains = new StaticArray<f32>(2 * BINS);
const ioBuffer = new Float32Array(FRAME);

// Stats (smoothed over ~0.5 s so the client shows a steady figure).
let inEnergy: f64 = 0;
let outEnergy: f64 = 0;
let noiseEnergy: f64 = 0;
let speechProb: f64 = 0;

function init(): void {
  fftInit();
  for (let n = 0; n < WIN; n++) unchecked((window[n] = <f32>Math.sin((Math.PI * <f64>n) / <f64>WIN)));
  noiseReset();
  gainReset();
  modelReset();
  for (let i = 0; i < 3 * WIN; i++) unchecked((history[i] = 0));
  for (let i = 0; i < 3 * HOP; i++) unchecked((tail[i] = 0));
  for (let i = 0; i < 16; i++) statSet(i, NaN);
}
init();

function readConfig(): void {
  if (configured) return;
  configured = true;
  const cfg = config();
  if (cfg === null) return;
  const e = cfg.get("enabled");
  if (e !== null && e.kind == Kind.Bool) enabled = e.b;
  const l = cfg.get("learnedGain");
  if (l !== null && l.kind == Kind.Bool) learned = l.b;
  const a = cfg.get("maxAttenuationDb");
  if (a !== null && a.kind == Kind.Number) {
    const db = Math.min(Math.max(a.n, 0), 60);
    gmin = <f32>Math.pow(10, -db / 20);
  }
}

/** Windows the newest WIN samples of signal `ch` into (re, im), zero-padded. */
function analyse(ch: i32, at: i32): void {
  const h = ch * WIN;
  for (let n = 0; n < HOP; n++) unchecked((history[h + n] = history[h + n + HOP]));
  // A non-finite sample (a faulty stage upstream) would poison the history,
  // the noise estimate and every later frame: it enters as silence instead.
  for (let n = 0; n < HOP; n++) {
    const x = frameGet(at + n);
    unchecked((history[h + HOP + n] = isFinite<f32>(x) ? x : 0));
  }
  for (let n = 0; n < WIN; n++) {
    unchecked((re[n] = history[h + n] * window[n]));
    unchecked((im[n] = 0));
  }
  for (let n = WIN; n < NFFT; n++) {
    unchecked((re[n] = 0));
    unchecked((im[n] = 0));
  }
  fft(re, im, false);
}

/** Applies gains g[gOff, gOff+BINS) to the spectrum, transforms back and overlap-adds HOP samples out to FRAME_BUFFER[to, to+HOP). */
function synthesise(ch: i32, g: StaticArray<f32>, gOff: i32, to: i32): void {
  for (let k = 0; k < BINS; k++) {
    const gk = unchecked(g[gOff + k]);
    unchecked((re[k] = re[k] * gk));
    unchecked((im[k] = im[k] * gk));
    if (k > 0 && k < BINS - 1) {
      unchecked((re[NFFT - k] = re[NFFT - k] * gk));
      unchecked((im[NFFT - k] = im[NFFT - k] * gk));
    }
  }
  fft(re, im, true);
  const t = ch * HOP;
  for (let n = 0; n < HOP; n++) {
    frameSet(to + n, unchecked(tail[t + n]) + unchecked(re[n]) * unchecked(window[n]));
    unchecked((tail[t + n] = re[n + HOP] * window[n + HOP]));
  }
}

function processFrame(): void {
  if (!enabled) return;
  let ein: f64 = 0;
  let eout: f64 = 0;
  let en: f64 = 0;
  let sp: f64 = 0;
  for (let hop = 0; hop < 2; hop++) {
    const at = hop * HOP;
    analyse(0, at);
    for (let n = HOP; n < WIN; n++) {
      const x = <f64>unchecked(history[n]);
      ein += x * x;
    }
    let total: f32 = 0;
    for (let k = 0; k < BINS; k++) {
      const p = unchecked(re[k] * re[k] + im[k] * im[k]);
      unchecked((power[k] = p));
      total += p;
    }
    // Digital silence (a device that has not started, a muted input) says
    // nothing about the noise: learning from it would set the estimate, and
    // the minimum search, to zero for the next 1.5 s.
    if (total > SILENCE) noiseUpdate(power);
    computeGains(power, noise, gmin);
    // The model's history (log SNR, phase, band context) skips digital silence
    // too: a muted or not yet started input says nothing about speech, and a
    // hop of it would stay in the context for 120 ms. Its output is silence
    // whatever the gains are.
    if (learned && total > SILENCE) modelGains(power, re, im, gains, gmin);
    for (let k = 0; k < BINS; k++) {
      unchecked((lastGains[hop * BINS + k] = gains[k]));
      en += <f64>unchecked(noise[k]);
    }
    // Speech presence over 300 Hz – 4 kHz (bins 6..85 at 46.9 Hz), where speech has its energy.
    for (let k = 6; k < 86; k++) sp += <f64>unchecked(presence[k]);
    synthesise(0, gains, 0, at);
    for (let n = 0; n < HOP; n++) {
      const y = <f64>frameGet(at + n);
      eout += y * y;
    }
  }
  const a = 0.95;
  inEnergy = a * inEnergy + (1 - a) * ein;
  outEnergy = a * outEnergy + (1 - a) * eout;
  noiseEnergy = a * noiseEnergy + (1 - a) * (en / 2.0);
  speechProb = a * speechProb + (1 - a) * (sp / 160.0);
  // White noise of variance σ² has a periodogram of σ²·Σw² = σ²·WIN/2 in each
  // bin, so the NFFT/2 one-sided bins sum to σ²·(NFFT/2)·(WIN/2).
  const noiseMs = noiseEnergy / ((<f64>NFFT / 2) * (<f64>WIN / 2));
  statSet(0, <f32>(10 * Math.log10(Math.max(noiseMs, 1e-12))));
  statSet(1, <f32>(10 * Math.log10(Math.max(inEnergy, 1e-12) / Math.max(outEnergy, 1e-12))));
  statSet(2, <f32>speechProb);
}

export function hearth_frame_process(): i32 {
  processFrame();
  return 0;
}

/**
 * Measurement only ("shadow filtering"): filters FRAME_BUFFER[960, 1920) in
 * place with the gains the last hearth_frame_process computed, through shadow
 * signal `ch` (0 or 1, each with its own overlap-add state). Called after every
 * frame with the clean speech and the noise that were mixed into it, it shows
 * what the suppressor did to each, separately (their sum is the output).
 */
export function hearth_ns_shadow(ch: i32): i32 {
  if (ch < 0 || ch > 1) return 1;
  if (!enabled) return 0;
  for (let hop = 0; hop < 2; hop++) {
    analyse(1 + ch, FRAME + hop * HOP);
    synthesise(1 + ch, lastGains, hop * BINS, FRAME + hop * HOP);
  }
  return 0;
}

export function on_audio_raw(): i32 {
  readConfig();
  const n = inputF32Into(ioBuffer);
  for (let i = 0; i < FRAME; i++) frameSet(i, i < n ? unchecked(ioBuffer[i]) : 0);
  processFrame();
  for (let i = 0; i < FRAME; i++) unchecked((ioBuffer[i] = frameGet(i)));
  outputF32(ioBuffer);
  return 0;
}
