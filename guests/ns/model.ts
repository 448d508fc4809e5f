// The learned gain: maps causal spectral features to a gain in [−30 dB, 0]
// for bins 1..KMAX-1 (47 Hz – 12 kHz). The classic two-step rule (gain.ts)
// still runs: its unfloored gain is one of the features, and it keeps bins 0
// and KMAX.. (above 12 kHz).
//
// Why: the classic rules cannot tell weak speech at −10…+10 dB local SNR from
// noise, and every variant of them we measured is stuck near 13 dB of speech
// distortion on pink noise (docs/DSP.md, "What was tried"). A mask learnt
// from data, as RNNoise's is, looks at a neighbourhood in frequency and time
// together and at the whole spectrum's recent past. Measured: 12.9 → 10.4 dB.
//
// Shape: a context network (HX inputs → NE tanh units, once per hop) and a
// bin network (NF features + the NE context outputs → NH tanh units → 1
// output z). tanh is a [3/2] Padé form, exactly as trained. ln gain =
// LN_FLOOR_T + σ(z)·(LN_TOP − LN_FLOOR_T), the gain clamped to ≤ 1 (a top a
// little over 0 lets it reach unity at a finite z).
// The weights are in model-weights.ts, written by scripts/ns-train/train.mjs
// from espeak-ng speech and generated noise (nothing from the test fixtures);
// scripts/ns-train/dsp.mjs is the float64 copy of this file the trainer uses,
// and the two must compute the same features (test/dsp/ns-model.test.ts).
//
// Features of bin k, all from this hop and the ones before (no look-ahead, so
// no added latency), each scaled to about ±2. a(k) = ln(|Y(k)|²/noise(k))
// clamped to [−5, 10], × 0.2: the bin's log SNR.
//   0..4    a(k−2..k+2), this hop
//   5..9    the same, the hop before
//   10..14  two hops before
//   15      ln(classic gain) × 0.2
//   16      ln(hop VAD ratio) clamped to [−3, 6], × 0.3
//   17      k / KMAX
//   18, 20  a(k) averaged with α 0.9 (~100 ms) and α 0.98 (~0.5 s)
//   19      ln(noise(k) / mean noise over 1..KMAX-1) clamped to [−8, 8], × 0.1
//   21, 22  the mean of a over k−8..k+8, this hop and the one before
//   23..26  the mean of a over four bands (94 Hz–1 kHz, 1–3, 3–8, 8–12 kHz), this hop
//   27..30  the same averaged with α 0.9
//   31      feature 16 averaged with α 0.95
//   32, 33  a(k) three and four hops before
//   34      a peak hold of a(k): max(a, the previous hold − 0.05)
//   35      the phase coherence c(k) of this hop (see updateCoherence)
//   36      the mean of c over k−1..k+1
//   37      c(k) averaged with α 0.7
// 16 and 23..31 are the same for every bin of a hop.
//
// The context network: the mean of a over 18 bands (CTX_EDGES, about a third
// of an octave from 1 kHz up) over the last CTX_HOPS hops (12: 120 ms),
// feature 16, and the mean phase coherence of the same 18 bands in this hop,
// go through NE hidden units once per hop. Their outputs are NE more inputs of
// every bin's network, so a bin at 5 kHz sees the whole spectrum's last 120 ms
// (a vowel below it, a fricative across the top). It cut the validation loss
// by a tenth; the bench's distortion moved by 0.1 dB (docs/DSP.md).
// Everything that is the same for every bin of a hop (features 16, 23..31 and
// the context outputs) is folded into each hidden unit's bias once per hop.
import { noise } from "./noise-estimate";
import { classic, vadRatio } from "./gain";
import { B1, B2, BE, CTX_HOPS, HX, LN_FLOOR_T, LN_TOP, NE, NF, NH, W1, W2, WE } from "./model-weights";

export const KMAX: i32 = 256;
/** The widest neighbourhood a feature reads (features 21, 22). */
const WIDE: i32 = 8;
const A_LEN: i32 = KMAX + WIDE;
const NBANDS: i32 = 4;
const BAND_LO: StaticArray<i32> = [2, 22, 65, 171];
const BAND_HI: StaticArray<i32> = [22, 65, 171, 256];
/** The bin network's inputs: NF features, then the NE context outputs. */
const NIN: i32 = NF + NE;
const CTX_EDGES: StaticArray<i32> = [1, 3, 5, 7, 9, 12, 15, 19, 24, 30, 38, 48, 60, 76, 96, 122, 160, 205, 256];
const CTX_BANDS: i32 = 18;
/** Bins whose phase coherence is computed (features 35..37 read k−1..k+1). */
const C_LEN: i32 = KMAX + 1;

let a0 = new StaticArray<f32>(A_LEN);
let a1 = new StaticArray<f32>(A_LEN);
let a2 = new StaticArray<f32>(A_LEN);
let a3 = new StaticArray<f32>(A_LEN);
let a4 = new StaticArray<f32>(A_LEN);
const peak = new StaticArray<f32>(A_LEN);
/** The context network's inputs: band means, newest hop first, then feature 16. */
const ctx = new StaticArray<f32>(HX);
const ctxOut = new StaticArray<f32>(NE);
/** The last hop's spectrum, its phase step d, the coherence and its average (updateCoherence). */
const yRe = new StaticArray<f32>(C_LEN);
const yIm = new StaticArray<f32>(C_LEN);
const dRe = new StaticArray<f32>(C_LEN);
const dIm = new StaticArray<f32>(C_LEN);
const coh = new StaticArray<f32>(C_LEN);
const cohSlow = new StaticArray<f32>(C_LEN);
let wide0 = new StaticArray<f32>(KMAX);
let wide1 = new StaticArray<f32>(KMAX);
const aSlow = new StaticArray<f32>(A_LEN);
const aSlower = new StaticArray<f32>(A_LEN);
const band = new StaticArray<f32>(NBANDS);
const bandSlow = new StaticArray<f32>(NBANDS);
let vadSlow: f32 = 0;
/**
 * The features that differ from bin to bin, in slot order: features 0..15, 17..22 and
 * 32..37 (16 and 23..31 are hop features, folded into the hop bias).
 */
const SLOT_FEATURE: StaticArray<i32> = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 32, 33, 34, 35, 36, 37];
const SLOTS: i32 = 28;
const feat = new StaticArray<f32>(SLOTS);
/**
 * The bin network's first layer for the slots, transposed (W1T[s * NH + j]), so that four
 * hidden units load as one v128: the per-bin pass is 28 slots × 8 vector multiply-adds.
 * It is written for NH = 32 (eight accumulators); another NH fails at start-up.
 */
const W1T = new StaticArray<f32>(SLOTS * NH);
assert(NH == 32, "ns model: the SIMD pass is written for 32 hidden units");
for (let s = 0; s < SLOTS; s++) {
  const i = unchecked(SLOT_FEATURE[s]);
  for (let j = 0; j < NH; j++) unchecked((W1T[s * NH + j] = W1[j * (NF + NE) + i]));
}
const hopBias = new StaticArray<f32>(NH);

export function modelReset(): void {
  for (let k = 0; k < A_LEN; k++) {
    unchecked((a0[k] = 0));
    unchecked((a1[k] = 0));
    unchecked((a2[k] = 0));
    unchecked((a3[k] = 0));
    unchecked((a4[k] = 0));
    unchecked((peak[k] = 0));
    unchecked((aSlow[k] = 0));
    unchecked((aSlower[k] = 0));
  }
  for (let k = 0; k < KMAX; k++) {
    unchecked((wide0[k] = 0));
    unchecked((wide1[k] = 0));
  }
  for (let b = 0; b < NBANDS; b++) {
    unchecked((band[b] = 0));
    unchecked((bandSlow[b] = 0));
  }
  vadSlow = 0;
  for (let i = 0; i < HX; i++) unchecked((ctx[i] = 0));
  for (let k = 0; k < C_LEN; k++) {
    unchecked((yRe[k] = 0));
    unchecked((yIm[k] = 0));
    unchecked((dRe[k] = 0));
    unchecked((dIm[k] = 0));
    unchecked((coh[k] = 0));
    unchecked((cohSlow[k] = 0));
  }
}

/**
 * Phase coherence of each bin: cos of the phase's second difference over the
 * last three hops, φ(t) − 2φ(t−1) + φ(t−2). A steady sinusoid (a voice
 * harmonic) advances its phase by the same step every hop, so the second
 * difference is 0 and the coherence near 1; noise gives a random angle (a
 * coherence of about 0.08 on average, the hops overlap). The bin's expected
 * step cancels in the difference, so no frequency estimate is needed, and the
 * angle of d(t)·conj(d(t−1)), d(t) = Y(t)·conj(Y(t−1)), needs no atan2.
 */
function updateCoherence(re: StaticArray<f32>, im: StaticArray<f32>): void {
  for (let k = 0; k < C_LEN; k++) {
    const r = unchecked(re[k]);
    const i = unchecked(im[k]);
    const pr = unchecked(yRe[k]);
    const pi = unchecked(yIm[k]);
    const dr = r * pr + i * pi;
    const di = i * pr - r * pi;
    const qr = unchecked(dRe[k]);
    const qi = unchecked(dIm[k]);
    const mag = Mathf.sqrt(dr * dr + di * di) * Mathf.sqrt(qr * qr + qi * qi);
    const c: f32 = mag > 1e-30 ? (dr * qr + di * qi) / mag : 0;
    unchecked((coh[k] = c));
    unchecked((cohSlow[k] = 0.7 * cohSlow[k] + 0.3 * c));
    unchecked((yRe[k] = r));
    unchecked((yIm[k] = i));
    unchecked((dRe[k] = dr));
    unchecked((dIm[k] = di));
  }
}

function clampf(x: f32, lo: f32, hi: f32): f32 {
  return min<f32>(max<f32>(x, lo), hi);
}

/** tanh by its [3/2] Padé form, flat at ±1 beyond ±3 (the form the model was trained with). */
function act(x: f32): f32 {
  if (x >= 3) return 1;
  if (x <= -3) return -1;
  const x2 = x * x;
  return (x * (27 + x2)) / (27 + 9 * x2);
}

/** The mean of x over bins [lo, hi). */
// @ts-ignore: decorator
@inline
function meanOver(x: StaticArray<f32>, lo: i32, hi: i32): f32 {
  let s: f32 = 0;
  for (let k = lo; k < hi; k++) s += unchecked(x[k]);
  return s / <f32>(hi - lo);
}

/** act on four lanes. Clamping to ±3 first is exact: the Padé form is 1 at 3. */
// @ts-ignore: decorator
@inline
function actv(x: v128): v128 {
  const c = f32x4.min(f32x4.max(x, f32x4.splat(-3)), f32x4.splat(3));
  const c2 = f32x4.mul(c, c);
  return f32x4.div(f32x4.mul(c, f32x4.add(f32x4.splat(27), c2)), f32x4.add(f32x4.splat(27), f32x4.mul(f32x4.splat(9), c2)));
}

/** This hop's log SNR, its averages, the neighbourhood and band means, and the hop features' share of each hidden unit. */
function updateFeatures(power: StaticArray<f32>, re: StaticArray<f32>, im: StaticArray<f32>): void {
  updateCoherence(re, im);
  // Shift the history (the arrays rotate, nothing is copied).
  const t = a4;
  a4 = a3;
  a3 = a2;
  a2 = a1;
  a1 = a0;
  a0 = t;
  const tw = wide1;
  wide1 = wide0;
  wide0 = tw;
  for (let k = 0; k < A_LEN; k++) {
    const a = clampf(Mathf.log(max<f32>(unchecked(power[k]), 1e-30) / max<f32>(unchecked(noise[k]), 1e-20)), -5, 10) * 0.2;
    unchecked((a0[k] = a));
    unchecked((aSlow[k] = 0.9 * aSlow[k] + 0.1 * a));
    unchecked((aSlower[k] = 0.98 * aSlower[k] + 0.02 * a));
    unchecked((peak[k] = max<f32>(a, peak[k] - 0.05)));
  }
  // Running sum over k−WIDE..k+WIDE (clipped at bin 0).
  let sum: f32 = 0;
  for (let j = 0; j <= WIDE; j++) sum += unchecked(a0[j]);
  for (let k = 1; k < KMAX; k++) {
    sum += unchecked(a0[k + WIDE]);
    if (k - WIDE - 1 >= 0) sum -= unchecked(a0[k - WIDE - 1]);
    const lo = max<i32>(k - WIDE, 0);
    unchecked((wide0[k] = sum / <f32>(k + WIDE - lo + 1)));
  }
  for (let b = 0; b < NBANDS; b++) {
    const m = meanOver(a0, unchecked(BAND_LO[b]), unchecked(BAND_HI[b]));
    unchecked((band[b] = m));
    unchecked((bandSlow[b] = 0.9 * bandSlow[b] + 0.1 * m));
  }
  const fVad = clampf(Mathf.log(max<f32>(vadRatio, 1e-30)), -3, 6) * 0.3;
  vadSlow = 0.95 * vadSlow + 0.05 * fVad;
  // Context: shift the band history by one hop, add this hop's, run the context units.
  for (let i = CTX_BANDS * CTX_HOPS - 1; i >= CTX_BANDS; i--) unchecked((ctx[i] = ctx[i - CTX_BANDS]));
  const cohAt = CTX_BANDS * CTX_HOPS + 1;
  for (let b = 0; b < CTX_BANDS; b++) {
    const lo = unchecked(CTX_EDGES[b]);
    const hi = unchecked(CTX_EDGES[b + 1]);
    unchecked((ctx[b] = meanOver(a0, lo, hi)));
    unchecked((ctx[cohAt + b] = meanOver(coh, lo, hi)));
  }
  unchecked((ctx[cohAt - 1] = fVad));
  for (let q = 0; q < NE; q++) {
    const row = q * HX;
    let u: f32 = unchecked(BE[q]);
    for (let i = 0; i < HX; i++) u += unchecked(WE[row + i]) * unchecked(ctx[i]);
    unchecked((ctxOut[q] = act(u)));
  }
  for (let j = 0; j < NH; j++) {
    const row = j * NIN;
    let u: f32 = unchecked(B1[j]) + unchecked(W1[row + 16]) * fVad + unchecked(W1[row + 31]) * vadSlow;
    for (let b = 0; b < NBANDS; b++) u += unchecked(W1[row + 23 + b]) * unchecked(band[b]) + unchecked(W1[row + 27 + b]) * unchecked(bandSlow[b]);
    for (let q = 0; q < NE; q++) u += unchecked(W1[row + NF + q]) * unchecked(ctxOut[q]);
    unchecked((hopBias[j] = u));
  }
}

/** Writes the learned gain of bins 1..KMAX-1 into `gains`, not below gmin. */
export function modelGains(power: StaticArray<f32>, re: StaticArray<f32>, im: StaticArray<f32>, gains: StaticArray<f32>, gmin: f32): void {
  updateFeatures(power, re, im);
  let nsum: f32 = 0;
  for (let k = 1; k < KMAX; k++) nsum += unchecked(noise[k]);
  const noiseMean = max<f32>(nsum / <f32>(KMAX - 1), 1e-20);
  const wp = changetype<usize>(W1T);
  const fp = changetype<usize>(feat);
  const bp = changetype<usize>(hopBias);
  const w2 = changetype<usize>(W2);
  for (let k = 1; k < KMAX; k++) {
    for (let d = -2; d <= 2; d++) {
      const j = max<i32>(k + d, 0);
      unchecked((feat[2 + d] = a0[j]));
      unchecked((feat[7 + d] = a1[j]));
      unchecked((feat[12 + d] = a2[j]));
    }
    unchecked((feat[15] = Mathf.log(max<f32>(classic[k], 1e-4)) * 0.2));
    unchecked((feat[16] = <f32>k / <f32>KMAX));
    unchecked((feat[17] = aSlow[k]));
    unchecked((feat[18] = clampf(Mathf.log(max<f32>(noise[k], 1e-20) / noiseMean), -8, 8) * 0.1));
    unchecked((feat[19] = aSlower[k]));
    unchecked((feat[20] = wide0[k]));
    unchecked((feat[21] = wide1[k]));
    unchecked((feat[22] = a3[k]));
    unchecked((feat[23] = a4[k]));
    unchecked((feat[24] = peak[k]));
    unchecked((feat[25] = coh[k]));
    unchecked((feat[26] = (coh[k - 1] + coh[k] + coh[k + 1]) / 3));
    unchecked((feat[27] = cohSlow[k]));
    let u0 = v128.load(bp);
    let u1 = v128.load(bp, 16);
    let u2 = v128.load(bp, 32);
    let u3 = v128.load(bp, 48);
    let u4 = v128.load(bp, 64);
    let u5 = v128.load(bp, 80);
    let u6 = v128.load(bp, 96);
    let u7 = v128.load(bp, 112);
    for (let s = 0; s < SLOTS; s++) {
      const f = f32x4.splat(load<f32>(fp + (<usize>s << 2)));
      const w = wp + <usize>s * (<usize>NH << 2);
      u0 = f32x4.add(u0, f32x4.mul(v128.load(w), f));
      u1 = f32x4.add(u1, f32x4.mul(v128.load(w, 16), f));
      u2 = f32x4.add(u2, f32x4.mul(v128.load(w, 32), f));
      u3 = f32x4.add(u3, f32x4.mul(v128.load(w, 48), f));
      u4 = f32x4.add(u4, f32x4.mul(v128.load(w, 64), f));
      u5 = f32x4.add(u5, f32x4.mul(v128.load(w, 80), f));
      u6 = f32x4.add(u6, f32x4.mul(v128.load(w, 96), f));
      u7 = f32x4.add(u7, f32x4.mul(v128.load(w, 112), f));
    }
    let zv = f32x4.mul(v128.load(w2), actv(u0));
    zv = f32x4.add(zv, f32x4.mul(v128.load(w2, 16), actv(u1)));
    zv = f32x4.add(zv, f32x4.mul(v128.load(w2, 32), actv(u2)));
    zv = f32x4.add(zv, f32x4.mul(v128.load(w2, 48), actv(u3)));
    zv = f32x4.add(zv, f32x4.mul(v128.load(w2, 64), actv(u4)));
    zv = f32x4.add(zv, f32x4.mul(v128.load(w2, 80), actv(u5)));
    zv = f32x4.add(zv, f32x4.mul(v128.load(w2, 96), actv(u6)));
    zv = f32x4.add(zv, f32x4.mul(v128.load(w2, 112), actv(u7)));
    const z: f32 = B2 + (f32x4.extract_lane(zv, 0) + f32x4.extract_lane(zv, 1)) + (f32x4.extract_lane(zv, 2) + f32x4.extract_lane(zv, 3));
    const s: f32 = 1 / (1 + Mathf.exp(-z));
    unchecked((gains[k] = max<f32>(min<f32>(Mathf.exp(LN_FLOOR_T + s * (LN_TOP - LN_FLOOR_T)), 1), gmin)));
  }
}
