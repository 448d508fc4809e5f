// A float64 JavaScript copy of the ns guest (guests/ns): STFT, noise
// estimate, classic two-step gain, the learned gain's features, its context
// network and its bin network. train.mjs trains on what this computes. With
// no model it reproduces the classic rule's bench figures to the last digit;
// with the committed weights, the guest's to about 0.01 dB (the guest is f32
// and sums its SIMD lanes in another order; test/dsp/ns-model.test.ts checks
// it). The guest is what ships and what the bench measures.
//
// Every constant and every step here must match guests/ns/{noise-estimate,
// gain,model,index}.ts. If you change one, change the other.
import { fftInPlace } from '../../dist/host/dsp/spectral.js';
import { pitchOf } from './pitch.mjs';

export const NFFT = 1024;
export const BINS = 513;
export const HOP = 480;
export const WIN = 960;
const SILENCE = 1e-10;

// ---- the learned gain's shape (guests/ns/model.ts) ----
/** Bins 1..KMAX-1 (47 Hz – 12 kHz) get the learned gain; bin 0 the floor, the rest the classic rule. */
export const KMAX = 256;
/**
 * Experimental (not in the guest): NS_PITCH=oracle adds two features from a pitch track of
 * the clean speech (an upper bound of what a pitch estimate could be worth): the voicing v
 * and v·cos(2π·f(k)/f0), 1 on a harmonic and −1 between two.
 */
export const PITCH = process.env.NS_PITCH ?? '';
export const NF = 38 + (PITCH ? 2 : 0);
export const NH = Number(process.env.NS_NH ?? 32);
/** The log-SNR arrays reach KMAX + WIDE (the widest neighbourhood a feature reads). */
export const WIDE = 8;
export const A_LEN = KMAX + WIDE;
/** Bands of the hop-level SNR features: 94 Hz – 1 kHz, 1–3, 3–8, 8–12 kHz (bins [lo, hi)). */
export const BANDS = [[2, 22], [22, 65], [65, 171], [171, 256]];
/**
 * The hop-context network: the mean log SNR of CTX_BANDS bands (about a third of an octave
 * wide from 1 kHz up, 2–3 bins below) over the last CTX_HOPS hops, and the hop VAD feature,
 * go through NE hidden units once per hop; their outputs are extra inputs of every bin's
 * network (the same for every bin of a hop). NE = 0: no context network.
 */
export const CTX_EDGES = [1, 3, 5, 7, 9, 12, 15, 19, 24, 30, 38, 48, 60, 76, 96, 122, 160, 205, 256];
export const CTX_BANDS = CTX_EDGES.length - 1;
export const CTX_HOPS = Number(process.env.NS_CTX_HOPS ?? 12);
/** Context inputs: band means of a over CTX_HOPS hops, feature 16, band means of the phase coherence (this hop). */
export const HX = CTX_BANDS * CTX_HOPS + 1 + CTX_BANDS;
/** Bins whose phase coherence is computed (features 35..37 read k−1..k+1). */
export const C_LEN = KMAX + 1;
export const NE = Number(process.env.NS_NE ?? 16);
/** The bin network's inputs: NF features, then the NE context outputs. */
export const NIN = NF + NE;
/** The model's gain range: [FLOOR_T, 1] (−30 dB, the default maxAttenuationDb); the configured floor clamps it further. */
export const FLOOR_T_DB = Number(process.env.NS_FLOOR_DB ?? 30);
export const LN_FLOOR_T = Math.log(10 ** (-FLOOR_T_DB / 20));
/**
 * The output's top: ln gain = LN_FLOOR_T + σ(z)·(LN_TOP − LN_FLOOR_T), and the gain is then
 * clamped to ≤ 1. A top a little over 0 lets the model reach unity gain at a finite z (with the
 * top at 0, strong speech bins came out 0.5–1 dB low and so did the speech level).
 */
export const LN_TOP = Number(process.env.NS_TOP ?? 0.1);

/** tanh by its [3/2] Padé form, clamped where it reaches ±1 with zero slope (cheap in wasm; the model is trained with it). */
export function act(x) {
  if (x >= 3) return 1;
  if (x <= -3) return -1;
  const x2 = x * x;
  return (x * (27 + x2)) / (27 + 9 * x2);
}
export function actDeriv(x) {
  if (x >= 3 || x <= -3) return 0;
  const x2 = x * x;
  const d = 27 + 9 * x2;
  return ((27 + 3 * x2) * d - (27 * x + x * x2) * 18 * x) / (d * d);
}

/** One instance of the suppressor's state (noise estimate, classic gain, feature history). */
export class NsCopy {
  constructor(gminDb = 30) {
    this.gmin = 10 ** (-gminDb / 20);
    this.win = new Float64Array(WIN);
    for (let n = 0; n < WIN; n++) this.win[n] = Math.sin((Math.PI * n) / WIN);
    this.power = new Float64Array(BINS);
    // noise estimate
    this.noise = new Float64Array(BINS);
    this.presence = new Float64Array(BINS);
    this.smooth = new Float64Array(BINS);
    this.minNow = new Float64Array(BINS);
    this.minSub = new Float64Array(BINS);
    this.minStore = new Float64Array(6 * BINS);
    this.hops = 0;
    this.subCount = 0;
    this.subIndex = 0;
    // gain
    this.classic = new Float64Array(BINS);
    this.gains = new Float64Array(BINS).fill(1);
    this.cleanPrev = new Float64Array(BINS);
    this.hang = 0;
    this.vad = 0;
    // features: log-SNR of this hop and the two before, and its slow average
    this.a0 = new Float64Array(BINS);
    this.a1 = new Float64Array(BINS);
    this.a2 = new Float64Array(BINS);
    this.a3 = new Float64Array(BINS);
    this.a4 = new Float64Array(BINS);
    this.peak = new Float64Array(BINS);
    // phase coherence: the last hop's spectrum, its phase step, and the coherence itself
    this.yRe = new Float64Array(C_LEN);
    this.yIm = new Float64Array(C_LEN);
    this.dRe = new Float64Array(C_LEN);
    this.dIm = new Float64Array(C_LEN);
    this.coh = new Float64Array(C_LEN);
    this.cohSlow = new Float64Array(C_LEN);
    this.aSlow = new Float64Array(BINS);
    this.aSlower = new Float64Array(BINS);
    this.wide0 = new Float64Array(BINS);
    this.wide1 = new Float64Array(BINS);
    this.band = new Float64Array(BANDS.length);
    this.bandSlow = new Float64Array(BANDS.length);
    this.vadSlow = 0;
    this.f0 = 150;
    this.voicing = 0;
    this.ctx = new Float64Array(CTX_BANDS * CTX_HOPS);
  }

  noiseUpdate(p) {
    const U = 6, V = 25, ALPHA_S = 0.8, DELTA = 4, ALPHA_P = 0.2, ALPHA_D = 0.99, JUMP = 12, BIAS = 2.4, FLOOR = 1.5, MIN_RATIO = 1.9, INIT = 15;
    this.hops++;
    if (this.hops <= INIT) {
      const w = 1 / this.hops;
      for (let k = 0; k < BINS; k++) this.noise[k] += w * (p[k] - this.noise[k]);
      if (this.hops === INIT) {
        for (let k = 0; k < BINS; k++) {
          const n = this.noise[k];
          const m = n / MIN_RATIO;
          this.smooth[k] = n;
          this.minNow[k] = m;
          this.minSub[k] = n;
          for (let u = 0; u < U; u++) this.minStore[u * BINS + k] = m;
        }
      }
      return;
    }
    this.subCount++;
    const endOfSub = this.subCount >= V;
    for (let k = 0; k < BINS; k++) {
      let pf = p[k];
      if (k > 0 && k < BINS - 1) pf = 0.25 * p[k - 1] + 0.5 * pf + 0.25 * p[k + 1];
      const s = ALPHA_S * this.smooth[k] + (1 - ALPHA_S) * pf;
      this.smooth[k] = s;
      let ms = Math.min(this.minSub[k], s);
      let mn = Math.min(this.minNow[k], s);
      if (endOfSub) {
        this.minStore[this.subIndex * BINS + k] = ms;
        mn = ms;
        for (let u = 0; u < U; u++) mn = Math.min(mn, this.minStore[u * BINS + k]);
        ms = s;
      }
      this.minSub[k] = ms;
      this.minNow[k] = mn;
      let pr = ALPHA_P * this.presence[k] + (1 - ALPHA_P) * (s > DELTA * mn ? 1 : 0);
      const n = this.noise[k];
      if (p[k] > JUMP * n) pr = Math.max(pr, 1);
      this.presence[k] = pr;
      const ad = ALPHA_D + (1 - ALPHA_D) * pr;
      this.noise[k] = Math.min(Math.max(ad * n + (1 - ad) * p[k], FLOOR * mn), BIAS * mn);
    }
    if (endOfSub) {
      this.subCount = 0;
      this.subIndex = (this.subIndex + 1) % U;
    }
  }

  /** The shipped rule (guests/ns/gain.ts): classic[] unfloored, gains[] with its floors. */
  classicGains(p) {
    const ALPHA_DD = 0.98, NOISE_SCALE = 0.5, SPEECH_FLOOR = 10 ** (-22 / 20);
    const xiMin = this.gmin * this.gmin;
    let py = 0, pn = 0;
    for (let k = 6; k < 86; k++) {
      py += p[k];
      pn += this.noise[k];
    }
    this.vad = pn > 0 ? py / pn : 1e6;
    if (py > 2 * pn) this.hang = 10;
    else if (this.hang > 0) this.hang--;
    const floor = this.hang > 0 ? Math.max(this.gmin, SPEECH_FLOOR) : this.gmin;
    for (let k = 0; k < BINS; k++) {
      const lambda = Math.max(NOISE_SCALE * this.noise[k], 1e-20);
      const gamma = Math.min(p[k] / lambda, 1e4);
      const xi = Math.max(ALPHA_DD * (this.cleanPrev[k] / lambda) + (1 - ALPHA_DD) * Math.max(gamma - 1, 0), xiMin);
      const g1 = xi / (1 + xi);
      const xi2 = g1 * g1 * gamma;
      const g = xi2 / (1 + xi2);
      this.cleanPrev[k] = g * g * p[k];
      this.classic[k] = g;
      this.gains[k] = k === 0 ? this.gmin : Math.max(g, floor);
    }
  }

  /** Shifts the log-SNR history and computes this hop's (guests/ns/model.ts). */
  updateFeatures(p) {
    const t = this.a4;
    this.a4 = this.a3;
    this.a3 = this.a2;
    this.a2 = this.a1;
    this.a1 = this.a0;
    this.a0 = t;
    const tw = this.wide1;
    this.wide1 = this.wide0;
    this.wide0 = tw;
    for (let k = 0; k < A_LEN; k++) {
      const a = Math.min(Math.max(Math.log(Math.max(p[k], 1e-30) / Math.max(this.noise[k], 1e-20)), -5), 10) * 0.2;
      this.a0[k] = a;
      this.aSlow[k] = 0.9 * this.aSlow[k] + 0.1 * a;
      this.aSlower[k] = 0.98 * this.aSlower[k] + 0.02 * a;
      this.peak[k] = Math.max(a, this.peak[k] - 0.05);
    }
    for (let k = 1; k < KMAX; k++) {
      let sum = 0;
      const lo = Math.max(k - WIDE, 0);
      for (let j = lo; j <= k + WIDE; j++) sum += this.a0[j];
      this.wide0[k] = sum / (k + WIDE - lo + 1);
    }
    BANDS.forEach(([lo, hi], b) => {
      let sum = 0;
      for (let k = lo; k < hi; k++) sum += this.a0[k];
      this.band[b] = sum / (hi - lo);
      this.bandSlow[b] = 0.9 * this.bandSlow[b] + 0.1 * this.band[b];
    });
    this.fVad = Math.min(Math.max(Math.log(Math.max(this.vad, 1e-30)), -3), 6) * 0.3;
    this.vadSlow = 0.95 * this.vadSlow + 0.05 * this.fVad;
    // The context history, newest first: shift by one hop, then this hop's band means.
    this.ctx.copyWithin(CTX_BANDS, 0, CTX_BANDS * (CTX_HOPS - 1));
    for (let b = 0; b < CTX_BANDS; b++) {
      let sum = 0;
      for (let k = CTX_EDGES[b]; k < CTX_EDGES[b + 1]; k++) sum += this.a0[k];
      this.ctx[b] = sum / (CTX_EDGES[b + 1] - CTX_EDGES[b]);
    }
  }

  /**
   * Phase coherence of each bin: cos of the phase's second difference over the last three
   * hops, φ(t) − 2φ(t−1) + φ(t−2). A steady sinusoid (a voice harmonic) advances its phase by
   * the same step every hop, so the second difference is 0 and the coherence near 1; noise
   * gives a random angle, coherence 0 on average. The bin's expected step 2πk·HOP/NFFT cancels
   * in the difference, so no frequency estimate is needed. Computed as the angle of
   * d(t)·conj(d(t−1)), d(t) = Y(t)·conj(Y(t−1)), without a single atan2.
   */
  updateCoherence(Y) {
    for (let k = 0; k < C_LEN; k++) {
      const re = Y.re[k];
      const im = Y.im[k];
      const dr = re * this.yRe[k] + im * this.yIm[k];
      const di = im * this.yRe[k] - re * this.yIm[k];
      const cr = dr * this.dRe[k] + di * this.dIm[k];
      const mag = Math.hypot(dr, di) * Math.hypot(this.dRe[k], this.dIm[k]);
      const c = mag > 1e-30 ? cr / mag : 0;
      this.coh[k] = c;
      this.cohSlow[k] = 0.7 * this.cohSlow[k] + 0.3 * c;
      this.yRe[k] = re;
      this.yIm[k] = im;
      this.dRe[k] = dr;
      this.dIm[k] = di;
    }
  }

  /** Writes the context network's HX inputs into x[at, at+HX). */
  hopInputs(x, at) {
    for (let i = 0; i < CTX_BANDS * CTX_HOPS; i++) x[at + i] = this.ctx[i];
    x[at + CTX_BANDS * CTX_HOPS] = this.fVad;
    for (let b = 0; b < CTX_BANDS; b++) {
      let sum = 0;
      for (let k = CTX_EDGES[b]; k < CTX_EDGES[b + 1]; k++) sum += this.coh[k];
      x[at + CTX_BANDS * CTX_HOPS + 1 + b] = sum / (CTX_EDGES[b + 1] - CTX_EDGES[b]);
    }
  }

  /**
   * Writes bin k's NF features into f[at, at+NF) (the list is in guests/ns/model.ts).
   * 16 and 23..31 are the same for every bin of a hop.
   */
  features(k, f, at) {
    for (let d = -2; d <= 2; d++) {
      const j = Math.max(k + d, 0);
      f[at + 2 + d] = this.a0[j];
      f[at + 7 + d] = this.a1[j];
      f[at + 12 + d] = this.a2[j];
    }
    f[at + 15] = Math.log(Math.max(this.classic[k], 1e-4)) * 0.2;
    f[at + 16] = this.fVad;
    f[at + 17] = k / KMAX;
    f[at + 18] = this.aSlow[k];
    f[at + 19] = Math.min(Math.max(Math.log(Math.max(this.noise[k], 1e-20) / this.noiseMean), -8), 8) * 0.1;
    f[at + 20] = this.aSlower[k];
    f[at + 21] = this.wide0[k];
    f[at + 22] = this.wide1[k];
    for (let b = 0; b < BANDS.length; b++) {
      f[at + 23 + b] = this.band[b];
      f[at + 27 + b] = this.bandSlow[b];
    }
    f[at + 31] = this.vadSlow;
    f[at + 32] = this.a3[k];
    f[at + 33] = this.a4[k];
    f[at + 34] = this.peak[k];
    f[at + 35] = this.coh[k];
    f[at + 36] = (this.coh[k - 1] + this.coh[k] + this.coh[k + 1]) / 3;
    f[at + 37] = this.cohSlow[k];
    if (PITCH) {
      f[at + 38] = this.voicing * Math.cos((2 * Math.PI * k * 48000) / (NFFT * this.f0));
      f[at + 39] = this.voicing;
    }
  }

  prepareFeatures(p, Y) {
    this.updateFeatures(p);
    this.updateCoherence(Y);
    let s = 0;
    for (let k = 1; k < KMAX; k++) s += this.noise[k];
    this.noiseMean = Math.max(s / (KMAX - 1), 1e-20);
  }
}

/** The context network's outputs for one hop's inputs x (weights { we[NE*HX], be[NE] }) into e[0, NE). */
export function contextOut(m, x, at, e, eAt) {
  for (let q = 0; q < NE; q++) {
    let u = m.be[q];
    const row = q * HX;
    for (let i = 0; i < HX; i++) u += m.we[row + i] * x[at + i];
    e[eAt + q] = act(u);
  }
}

/** The bin network's log gain for one input vector of NIN (weights: { w1[NH*NIN], b1[NH], w2[NH], b2 }). */
export function mlpLogGain(m, f, at, h = new Float64Array(NH)) {
  let z = m.b2;
  for (let j = 0; j < NH; j++) {
    let u = m.b1[j];
    const row = j * NIN;
    for (let i = 0; i < NIN; i++) u += m.w1[row + i] * f[at + i];
    h[j] = act(u);
    z += m.w2[j] * h[j];
  }
  const s = 1 / (1 + Math.exp(-z));
  return LN_FLOOR_T + s * (LN_TOP - LN_FLOOR_T);
}

/**
 * Runs the suppressor over mix (= speech + noise when both given) hop by hop.
 * onHop(state, hopIndex, Y, S) is called after the classic gains and the features are ready
 * (Y, S: the hop's spectra, interleaved re/im not kept: Float64Array pairs).
 * With a model, bins 1..KMAX-1 get its gain (clamped by the floor). Returns the outputs
 * (latency removed) when `synth`.
 */
export function run(mix, { speech = null, noise = null, model = null, gminDb = 30, onHop = null, synth = true } = {}) {
  const st = new NsCopy(gminDb);
  const len = mix.length;
  const hops = Math.ceil((len + HOP) / HOP);
  const chans = [mix, speech, noise].filter((x) => x !== null);
  const hist = chans.map(() => new Float64Array(WIN));
  const tails = chans.map(() => new Float64Array(HOP));
  const outs = chans.map(() => new Float32Array(hops * HOP));
  const specs = chans.map(() => ({ re: new Float64Array(NFFT), im: new Float64Array(NFFT) }));
  const f = new Float64Array(NIN);
  const h = new Float64Array(NH);
  const hx = new Float64Array(HX);
  for (let t = 0; t < hops; t++) {
    chans.forEach((x, c) => {
      const hs = hist[c];
      hs.copyWithin(0, HOP);
      for (let n = 0; n < HOP; n++) hs[HOP + n] = x[t * HOP + n] ?? 0;
      const { re, im } = specs[c];
      re.fill(0);
      im.fill(0);
      for (let n = 0; n < WIN; n++) re[n] = hs[n] * st.win[n];
      fftInPlace(re, im);
    });
    if (PITCH === 'oracle' && speech) {
      const p = pitchOf(hist[1]);
      st.f0 = p.f0;
      st.voicing = p.voicing;
    }
    const Y = specs[0];
    let total = 0;
    for (let k = 0; k < BINS; k++) {
      st.power[k] = Y.re[k] * Y.re[k] + Y.im[k] * Y.im[k];
      total += st.power[k];
    }
    if (total > SILENCE) st.noiseUpdate(st.power);
    st.classicGains(st.power);
    // As the guest: the model's history skips digital silence (no training sample comes from it).
    const audible = total > SILENCE;
    if (audible) st.prepareFeatures(st.power, Y);
    if (audible) onHop?.(st, t, Y, speech ? specs[1] : null);
    if (model && audible) {
      if (NE > 0) {
        st.hopInputs(hx, 0);
        contextOut(model, hx, 0, f, NF);
      }
      for (let k = 1; k < KMAX; k++) {
        st.features(k, f, 0);
        st.gains[k] = Math.max(Math.min(Math.exp(mlpLogGain(model, f, 0, h)), 1), st.gmin);
      }
    }
    if (!synth) continue;
    chans.forEach((_, c) => {
      const { re, im } = specs[c];
      for (let k = 0; k < BINS; k++) {
        const g = st.gains[k];
        re[k] *= g;
        im[k] *= g;
        if (k > 0 && k < BINS - 1) {
          re[NFFT - k] *= g;
          im[NFFT - k] *= g;
        }
      }
      fftInPlace(re, im, true);
      const tl = tails[c];
      const o = outs[c];
      for (let n = 0; n < HOP; n++) {
        o[t * HOP + n] = tl[n] + (re[n] / NFFT) * st.win[n];
        tl[n] = (re[n + HOP] / NFFT) * st.win[n + HOP];
      }
    });
  }
  const cut = (o) => o.slice(HOP, HOP + len);
  return { output: cut(outs[0]), speech: speech ? cut(outs[1]) : null, noise: noise ? cut(outs[chans.length - 1]) : null };
}
