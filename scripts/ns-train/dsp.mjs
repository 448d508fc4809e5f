// A float64 JavaScript copy of the ns guest (guests/ns): STFT, noise
// estimate, classic two-step gain, the learned gain's features and the MLP.
// It is groundwork for a trainer (not written yet, see README.md here): with no
// model it reproduces the shipped guest's bench figures to the last digit
// (the guest is f32, this is f64); the guest is what ships and what the bench
// measures.
//
// Every constant and every step here must match guests/ns/{noise-estimate,
// gain,model,index}.ts. If you change one, change the other.
import { fftInPlace } from '../../dist/host/dsp/spectral.js';

export const NFFT = 1024;
export const BINS = 513;
export const HOP = 480;
export const WIN = 960;
const SILENCE = 1e-10;

// ---- the learned gain's shape (guests/ns/model.ts) ----
/** Bins 1..KMAX-1 (47 Hz – 12 kHz) get the learned gain; bin 0 the floor, the rest the classic rule. */
export const KMAX = 256;
export const NF = 20;
export const NH = 16;
/** The model's gain range: [FLOOR_T, 1] (−30 dB, the default maxAttenuationDb); the configured floor clamps it further. */
export const LN_FLOOR_T = Math.log(10 ** (-30 / 20));

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
    this.aSlow = new Float64Array(BINS);
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

  /** Shifts the log-SNR history and computes this hop's (guests/ns/model.ts updateFeatures). */
  updateFeatures(p) {
    const t = this.a2;
    this.a2 = this.a1;
    this.a1 = this.a0;
    this.a0 = t;
    for (let k = 0; k < KMAX + 2; k++) {
      const a = Math.min(Math.max(Math.log(Math.max(p[k], 1e-30) / Math.max(this.noise[k], 1e-20)), -5), 10) * 0.2;
      this.a0[k] = a;
      this.aSlow[k] = 0.9 * this.aSlow[k] + 0.1 * a;
    }
  }

  /** Writes bin k's NF features into f[at, at+NF). */
  features(k, f, at) {
    for (let d = -2; d <= 2; d++) {
      const j = Math.max(k + d, 0);
      f[at + 2 + d] = this.a0[j];
      f[at + 7 + d] = this.a1[j];
      f[at + 12 + d] = this.a2[j];
    }
    f[at + 15] = Math.log(Math.max(this.classic[k], 1e-4)) * 0.2;
    f[at + 16] = Math.min(Math.max(Math.log(Math.max(this.vad, 1e-30)), -3), 6) * 0.3;
    f[at + 17] = k / KMAX;
    f[at + 18] = this.aSlow[k];
    f[at + 19] = Math.min(Math.max(Math.log(Math.max(this.noise[k], 1e-20) / this.noiseMean), -8), 8) * 0.1;
  }

  prepareFeatures(p) {
    this.updateFeatures(p);
    let s = 0;
    for (let k = 1; k < KMAX; k++) s += this.noise[k];
    this.noiseMean = Math.max(s / (KMAX - 1), 1e-20);
  }
}

/** The MLP's log gain for one feature vector (weights: { w1[NH*NF], b1[NH], w2[NH], b2 }). */
export function mlpLogGain(m, f, at, h = new Float64Array(NH)) {
  let z = m.b2;
  for (let j = 0; j < NH; j++) {
    let u = m.b1[j];
    const row = j * NF;
    for (let i = 0; i < NF; i++) u += m.w1[row + i] * f[at + i];
    h[j] = act(u);
    z += m.w2[j] * h[j];
  }
  const s = 1 / (1 + Math.exp(-z));
  return (1 - s) * LN_FLOOR_T;
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
  const f = new Float64Array(NF);
  const h = new Float64Array(NH);
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
    const Y = specs[0];
    let total = 0;
    for (let k = 0; k < BINS; k++) {
      st.power[k] = Y.re[k] * Y.re[k] + Y.im[k] * Y.im[k];
      total += st.power[k];
    }
    if (total > SILENCE) st.noiseUpdate(st.power);
    st.classicGains(st.power);
    st.prepareFeatures(st.power);
    onHop?.(st, t, Y, speech ? specs[1] : null);
    if (model) {
      for (let k = 1; k < KMAX; k++) {
        st.features(k, f, 0);
        st.gains[k] = Math.max(Math.exp(mlpLogGain(model, f, 0, h)), st.gmin);
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
