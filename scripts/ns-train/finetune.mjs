// Fine-tunes the learned gain on the bench's own distortion measure.
//
//   npx tsc -p tsconfig.json && node scripts/ns-train/finetune.mjs [--init model.json] [--epochs N] [--lr R] [--no-write] [--dump FILE]
//
// train.mjs fits each (hop, bin) gain to the ideal log gain of that hop's
// spectra. The bench scores something else: the log-spectral distance between
// the clean speech and the *resynthesised* output, in 1024-sample Hann frames
// hopping 512, averaged over frames as each frame's RMS (spectral.ts,
// logSpectralDistanceDb). Overlap-add mixes the gains of neighbouring hops into
// one measured frame, and the per-frame RMS counts a frame that is already close
// more than the squared loss does. Both stages between the gains and the figure
// are linear or smooth, so the measure itself can be differentiated:
//
//   gains → (× Y, inverse FFT, sine window, overlap-add) → output
//         → (Hann frame, FFT, |·|², 80 dB floor, ln) → per-frame RMS error → mean
//
// Per chunk of consecutive hops the network runs on every bin, the output of the
// measured frames that the chunk touches is synthesised (gains of hops outside
// the chunk come from a cache of their last forward pass), the measure's gradient
// flows back to the chunk's gains and from there into the network. What the
// measure does not see (bins over 8 kHz, hops outside its active frames) keeps
// train.mjs's squared loss against the ideal gain, so the attenuation of noise
// alone does not drift. The data and the split are train.mjs's (data.mjs); it
// starts from the committed weights unless --init names a --dump JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BINS, CTX_HOPS, FLOOR_T_DB, HOP, HX, KMAX, LN_FLOOR_T, LN_TOP, NE, NF, NFFT, NH, NIN, WIN, act, actDeriv, run } from './dsp.mjs';
import { mixtures, readWav16, utterances } from './data.mjs';
import { writeWeights } from './write-weights.mjs';
import { rng } from '../../dist/host/dsp/room.js';
import { activeFrames, fftInPlace, logSpectralDistanceDb } from '../../dist/host/dsp/spectral.js';
import { makeNsCase, measureNs } from '../../dist/host/dsp/ns-shadow.js';

const root = join(new URL('.', import.meta.url).pathname, '..', '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const str = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const EPOCHS = opt('epochs', 2);
const LR = opt('lr', 3e-4);
const CHUNK = opt('chunk', 8); // hops per Adam step
const SEED = opt('seed', 1);
/** Weight of the squared loss on what the measure does not see. */
const REG = opt('reg', 1);
/** The measure's per-frame loss is 2·RREF·K·rms: per bin, the squared loss's gradient × RREF/rms. */
const RREF = opt('rref', 1.2);
const OUT = str('out', join(root, 'guests', 'ns', 'model-weights.ts'));
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

// ---- the measure (spectral.ts logSpectralDistanceDb, defaults) ----
const MN = 1024;
const MHOP = 512;
const LO = Math.round((50 * MN) / 48000);
const HI = Math.round((8000 * MN) / 48000);
const MK = HI - LO + 1;
const hann = Float64Array.from({ length: MN }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / MN));
const sine = Float64Array.from({ length: WIN }, (_, n) => Math.sin((Math.PI * n) / WIN));
const MB = KMAX - 1; // model bins per hop: 1..KMAX-1

// ---- the starting model ----
function committedModel() {
  const t = readFileSync(join(root, 'guests', 'ns', 'model-weights.ts'), 'utf8');
  const arr = (n) => JSON.parse(t.match(new RegExp(`export const ${n}: StaticArray<f32> = (\\[[^\\]]*\\])`))[1]);
  const num = (n) => Number(t.match(new RegExp(`export const ${n}: \\w+ = ([-0-9.e]+)`))[1]);
  return { we: arr('WE'), be: arr('BE'), w1: arr('W1'), b1: arr('B1'), w2: arr('W2'), b2: num('B2') };
}
const init = str('init', null) ? JSON.parse(readFileSync(str('init', null), 'utf8')) : committedModel();
const W1 = 0, B1 = NH * NIN, W2 = B1 + NH, B2 = W2 + NH, WE = B2 + 1, BE = WE + NE * HX;
const P = BE + NE;
const theta = new Float64Array(P);
theta.set(init.w1, W1);
theta.set(init.b1, B1);
theta.set(init.w2, W2);
theta[B2] = init.b2;
theta.set(init.we, WE);
theta.set(init.be, BE);
if (init.w1.length !== NH * NIN || init.we.length !== NE * HX) throw new Error('the starting model has another shape than dsp.mjs');
const asModel = (th) => ({ w1: th.subarray(W1, B1), b1: th.subarray(B1, W2), w2: th.subarray(W2, B2), b2: th[B2], we: th.subarray(WE, BE), be: th.subarray(BE, P) });

// ---- per mixture: spectra, fixed gains, features, targets, the measure's frames ----
const t0 = Date.now();
const mixes = mixtures(utterances(opt('voices', 2)), { repeats: opt('repeats', 2) });
function prepare(m) {
  const mix = m.speech.map((v, i) => v + m.noise[i]);
  const len = mix.length;
  const T = Math.ceil((len + HOP) / HOP);
  const Yre = new Float32Array(T * BINS);
  const Yim = new Float32Array(T * BINS);
  const fixed = new Float32Array(T * BINS);
  const modelOn = new Uint8Array(T);
  const x = new Float32Array(T * MB * NF);
  const hx = new Float32Array(T * HX);
  const sPow = new Float32Array(T * MB);
  const yPow = new Float32Array(T * MB);
  const f = new Float64Array(NF);
  const h = new Float64Array(HX);
  let peak = 0;
  run(mix, {
    speech: m.speech,
    synth: false,
    onHop: (st, t, Y, S) => {
      modelOn[t] = 1;
      for (let k = 0; k < BINS; k++) {
        Yre[t * BINS + k] = Y.re[k];
        Yim[t * BINS + k] = Y.im[k];
        fixed[t * BINS + k] = st.gains[k];
      }
      st.hopInputs(h, 0);
      hx.set(h, t * HX);
      for (let k = 1; k < KMAX; k++) {
        st.features(k, f, 0);
        x.set(f, (t * MB + k - 1) * NF);
        const ps = S.re[k] * S.re[k] + S.im[k] * S.im[k];
        sPow[t * MB + k - 1] = ps;
        yPow[t * MB + k - 1] = Y.re[k] * Y.re[k] + Y.im[k] * Y.im[k];
        if (k <= 170) peak = Math.max(peak, ps);
      }
    },
  });
  // The squared loss's target, as train.mjs --target lsd.
  const target = new Float32Array(T * MB);
  for (let i = 0; i < T * MB; i++) target[i] = Math.min(0.5 * Math.log(Math.max(sPow[i], peak * 1e-8) / Math.max(yPow[i], 1e-30)), 0);
  // The measure's frames: start, clean level per bin (floored), as logSpectralDistanceDb.
  const starts = activeFrames(m.speech, MN, MHOP, 40);
  const re = new Float64Array(MN);
  const im = new Float64Array(MN);
  const cleanPow = new Float64Array(starts.length * MK);
  let mpeak = 0;
  starts.forEach((s, i) => {
    for (let n = 0; n < MN; n++) {
      re[n] = (m.speech[s + n] ?? 0) * hann[n];
      im[n] = 0;
    }
    fftInPlace(re, im);
    for (let k = LO; k <= HI; k++) {
      const p = re[k] * re[k] + im[k] * im[k];
      cleanPow[i * MK + k - LO] = p;
      mpeak = Math.max(mpeak, p);
    }
  });
  const floor = mpeak * 1e-8;
  const cleanLn = cleanPow.map((p) => 0.5 * Math.log(Math.max(p, floor)));
  // Hops whose output overlaps a measured frame: their bins 1..170 are the measure's.
  const seen = new Uint8Array(T);
  for (const s of starts) {
    for (let t = 0; t < T; t++) {
      const a = (t - 1) * HOP;
      if (a < s + MN && a + WIN > s) seen[t] = 1;
    }
  }
  return { len, T, Yre, Yim, fixed, modelOn, x, hx, target, starts, cleanLn, floor, seen, gains: Float64Array.from(fixed) };
}
const trainMixes = (args.includes('--check') ? mixes.slice(0, 1) : mixes.filter((_, i) => i % 7 !== 3)).map(prepare);
const validMixes = mixes.filter((_, i) => i % 7 === 3);
log(`${trainMixes.length} training mixtures prepared, ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// ---- forward and backward of one chunk ----
const HU = new Float64Array(CHUNK * MB * NH);
const HH = new Float64Array(CHUNK * MB * NH);
const SIG = new Float64Array(CHUNK * MB);
const LNG = new Float64Array(CHUNK * MB);
const EU = new Float64Array(CHUNK * NE);
const EV = new Float64Array(CHUNK * NE);
const v = new Float64Array(NIN);
const dE = new Float64Array(NE);
const re = new Float64Array(NFFT);
const im = new Float64Array(NFFT);

/** The network over hop t's bins (chunk slot c): activations kept, gains into m.gains. */
function forwardHop(th, m, t, c) {
  for (let q = 0; q < NE; q++) {
    let u = th[BE + q];
    const row = WE + q * HX;
    for (let i = 0; i < HX; i++) u += th[row + i] * m.hx[t * HX + i];
    EU[c * NE + q] = u;
    EV[c * NE + q] = act(u);
  }
  for (let q = 0; q < NE; q++) v[NF + q] = EV[c * NE + q];
  for (let b = 0; b < MB; b++) {
    const at = (t * MB + b) * NF;
    for (let q = 0; q < NF; q++) v[q] = m.x[at + q];
    let z = th[B2];
    const hAt = (c * MB + b) * NH;
    for (let j = 0; j < NH; j++) {
      let a = th[B1 + j];
      const row = W1 + j * NIN;
      for (let q = 0; q < NIN; q++) a += th[row + q] * v[q];
      HU[hAt + j] = a;
      const hj = act(a);
      HH[hAt + j] = hj;
      z += th[W2 + j] * hj;
    }
    const s = 1 / (1 + Math.exp(-z));
    SIG[c * MB + b] = s;
    const lg = LN_FLOOR_T + s * (LN_TOP - LN_FLOOR_T);
    LNG[c * MB + b] = lg;
    m.gains[t * BINS + b + 1] = Math.min(Math.exp(lg), 1);
  }
}

/** Hop t's windowed synthesis frame (output samples (t−1)·HOP … +WIN) from its cached gains, into re[0, WIN). */
function synthHop(m, t) {
  re.fill(0);
  im.fill(0);
  for (let k = 0; k < BINS; k++) {
    const g = m.gains[t * BINS + k];
    re[k] = g * m.Yre[t * BINS + k];
    im[k] = g * m.Yim[t * BINS + k];
    if (k > 0 && k < BINS - 1) {
      re[NFFT - k] = re[k];
      im[NFFT - k] = -im[k];
    }
  }
  fftInPlace(re, im, true);
  for (let n = 0; n < WIN; n++) re[n] = (re[n] / NFFT) * sine[n];
}

/**
 * One chunk of hops [t0, t1): forward, the measure over the frames it touches, the gradient into grad.
 * Returns { meas: Σ frame rms (ln units), frames, sq: Σ squared error, n: samples }.
 */
function chunkGrad(th, m, t0, t1, grad) {
  for (let t = t0; t < t1; t++) if (m.modelOn[t]) forwardHop(th, m, t, t - t0);
  // The output region the chunk's hops write, and the measured frames that overlap it.
  const a = (t0 - 1) * HOP;
  const b = (t1 - 2) * HOP + WIN;
  const frames = [];
  for (let i = 0; i < m.starts.length; i++) if (m.starts[i] < b && m.starts[i] + MN > a) frames.push(i);
  const dG = new Float64Array((t1 - t0) * MB);
  let meas = 0;
  if (frames.length > 0) {
    const base = m.starts[frames[0]];
    const end = m.starts[frames[frames.length - 1]] + MN;
    const out = new Float64Array(end - base);
    const tFrom = Math.max(0, Math.floor(base / HOP) - 1);
    const tTo = Math.min(m.T, Math.ceil(end / HOP) + 2);
    for (let t = tFrom; t < tTo; t++) {
      synthHop(m, t);
      const o = (t - 1) * HOP - base;
      for (let n = 0; n < WIN; n++) if (o + n >= 0 && o + n < out.length) out[o + n] += re[n];
    }
    const gOut = new Float64Array(out.length);
    for (const i of frames) {
      const s = m.starts[i] - base;
      for (let n = 0; n < MN; n++) {
        re[n] = out[s + n] * hann[n];
        im[n] = 0;
      }
      fftInPlace(re, im);
      // d = ln|S| − ln|T| (each floored); the frame's loss 2·RREF·MK·rms(d).
      const d = new Float64Array(MK);
      let sq = 0;
      for (let k = LO; k <= HI; k++) {
        const p = re[k] * re[k] + im[k] * im[k];
        const dk = m.cleanLn[i * MK + k - LO] - 0.5 * Math.log(Math.max(p, m.floor));
        d[k - LO] = dk;
        sq += dk * dk;
      }
      const rms = Math.sqrt(sq / MK);
      meas += rms;
      const scale = (2 * RREF) / Math.max(rms, 1e-3);
      // ∂loss/∂P_k = −scale·d_k·0.5/P_k (0 under the floor); ∂P_k/∂x[n] = 2·w[n]·Re(conj(T_k)·e^{−i2πkn/N}).
      const ar = new Float64Array(MN);
      const ai = new Float64Array(MN);
      for (let k = LO; k <= HI; k++) {
        const p = re[k] * re[k] + im[k] * im[k];
        if (p <= m.floor) continue;
        const c = (-scale * d[k - LO] * 0.5) / p;
        ar[k] = c * re[k];
        ai[k] = -c * im[k];
      }
      fftInPlace(ar, ai);
      for (let n = 0; n < MN; n++) gOut[s + n] += 2 * hann[n] * ar[n];
    }
    // Back through the overlap-add and the inverse FFT: ∂/∂G_k = (2/N)·Re(Y_k·conj(Q_k)), Q = FFT(q), q = ∂/∂out · window.
    for (let t = t0; t < t1; t++) {
      if (!m.modelOn[t]) continue;
      const o = (t - 1) * HOP - base;
      re.fill(0);
      im.fill(0);
      let any = false;
      for (let n = 0; n < WIN; n++) {
        if (o + n >= 0 && o + n < gOut.length) {
          re[n] = gOut[o + n] * sine[n];
          if (re[n] !== 0) any = true;
        }
      }
      if (!any) continue;
      fftInPlace(re, im);
      for (let k = 1; k < KMAX; k++) {
        const y = t * BINS + k;
        dG[(t - t0) * MB + k - 1] = (2 / NFFT) * (m.Yre[y] * re[k] + m.Yim[y] * im[k]);
      }
    }
  }
  // The network's backward pass: the measure's part through the clamped gain, the squared loss where the measure is blind.
  let sqLoss = 0;
  let n = 0;
  for (let t = t0; t < t1; t++) {
    if (!m.modelOn[t]) continue;
    const c = t - t0;
    dE.fill(0);
    for (let q = 0; q < NE; q++) v[NF + q] = EV[c * NE + q];
    for (let bIdx = 0; bIdx < MB; bIdx++) {
      const k = bIdx + 1;
      const s = SIG[c * MB + bIdx];
      const lg = LNG[c * MB + bIdx];
      let dl = 0; // ∂loss/∂ln g
      if (m.seen[t] && k <= HI) {
        if (lg < 0) dl = dG[c * MB + bIdx] * Math.exp(lg);
      } else {
        const e = lg - m.target[t * MB + bIdx];
        sqLoss += e * e;
        dl = 2 * REG * e;
      }
      n++;
      if (dl === 0 || !grad) continue;
      const dz = dl * (LN_TOP - LN_FLOOR_T) * s * (1 - s);
      const at = (t * MB + bIdx) * NF;
      for (let q = 0; q < NF; q++) v[q] = m.x[at + q];
      const hAt = (c * MB + bIdx) * NH;
      grad[B2] += dz;
      for (let j = 0; j < NH; j++) {
        grad[W2 + j] += dz * HH[hAt + j];
        const du = dz * th[W2 + j] * actDeriv(HU[hAt + j]);
        grad[B1 + j] += du;
        const row = W1 + j * NIN;
        for (let q = 0; q < NIN; q++) grad[row + q] += du * v[q];
        for (let q = 0; q < NE; q++) dE[q] += du * th[row + NF + q];
      }
    }
    if (!grad) continue;
    for (let q = 0; q < NE; q++) {
      const du = dE[q] * actDeriv(EU[c * NE + q]);
      grad[BE + q] += du;
      const row = WE + q * HX;
      for (let i = 0; i < HX; i++) grad[row + i] += du * m.hx[t * HX + i];
    }
  }
  return { meas, frames: frames.length, sq: sqLoss, n };
}

// ---- gradient check (--check): the measure's gradient against finite differences ----
if (args.includes('--check')) {
  const m = trainMixes[0];
  // The synthesis here against dsp.mjs's run(), through the bench's own measure.
  for (let t = 0; t < m.T; t++) if (m.modelOn[t]) forwardHop(theta, m, t, 0);
  const full = new Float64Array(m.T * HOP + WIN);
  for (let t = 0; t < m.T; t++) {
    synthHop(m, t);
    for (let n = 0; n < WIN; n++) if ((t - 1) * HOP + n >= 0) full[(t - 1) * HOP + n] += re[n];
  }
  const mm = mixes[0];
  const mixed = mm.speech.map((x, i) => x + mm.noise[i]);
  const ref = run(mixed, { model: asModel(theta) }).output;
  let maxDiff = 0;
  for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i] - full[i]));
  log(`synthesis vs run(): max |diff| ${maxDiff.toExponential(2)}; LSD ${logSpectralDistanceDb(mm.speech, full.subarray(0, m.len)).toFixed(4)} vs ${logSpectralDistanceDb(mm.speech, ref).toFixed(4)} dB`);
  const tc = m.starts[Math.floor(m.starts.length / 2)] / HOP + 1;
  const t0c = Math.floor(tc);
  const meas = () => chunkGrad(theta, m, t0c, t0c + CHUNK, null);
  const grad = new Float64Array(P);
  chunkGrad(theta, m, t0c, t0c + CHUNK, grad);
  const lossOf = () => {
    const r = meas();
    return 2 * RREF * MK * r.meas + REG * r.sq;
  };
  for (const p of [B2, B1 + 3, W2 + 5, W1 + 7, WE + 11, BE + 2]) {
    const h = 1e-5;
    const keep = theta[p];
    theta[p] = keep + h;
    const up = lossOf();
    theta[p] = keep - h;
    const down = lossOf();
    theta[p] = keep;
    log(`param ${p}: analytic ${grad[p].toExponential(4)}, numeric ${((up - down) / (2 * h)).toExponential(4)}`);
  }
  process.exit(0);
}

// ---- Adam over shuffled chunks of every mixture ----
for (const m of trainMixes) for (let t = 0; t < m.T; t++) if (m.modelOn[t]) forwardHop(theta, m, t, 0);
const chunks = [];
trainMixes.forEach((m, i) => {
  for (let t = 0; t < m.T; t += CHUNK) chunks.push([i, t, Math.min(t + CHUNK, m.T)]);
});
const m1 = new Float64Array(P);
const m2 = new Float64Array(P);
const grad = new Float64Array(P);
const shuf = rng(SEED + 300);
let step = 0;
for (let ep = 0; ep < EPOCHS; ep++) {
  for (let i = chunks.length - 1; i > 0; i--) {
    const j = Math.floor(shuf() * (i + 1));
    [chunks[i], chunks[j]] = [chunks[j], chunks[i]];
  }
  const lr = LR * 0.5 ** ep;
  let meas = 0, frames = 0, sq = 0, n = 0;
  for (const [mi, a, b] of chunks) {
    grad.fill(0);
    const r = chunkGrad(theta, trainMixes[mi], a, b, grad);
    meas += r.meas;
    frames += r.frames;
    sq += r.sq;
    n += r.n;
    if (r.n === 0) continue;
    step++;
    const c1 = 1 - 0.9 ** step;
    const c2 = 1 - 0.999 ** step;
    for (let p = 0; p < P; p++) {
      const g = grad[p] / r.n;
      m1[p] = 0.9 * m1[p] + 0.1 * g;
      m2[p] = 0.999 * m2[p] + 0.001 * g * g;
      theta[p] -= (lr * (m1[p] / c1)) / (Math.sqrt(m2[p] / c2) + 1e-8);
    }
  }
  log(`epoch ${ep + 1}/${EPOCHS}: measure ${((meas / Math.max(frames, 1)) * (20 / Math.LN10)).toFixed(3)} dB per frame touched, squared loss ${(sq / Math.max(n, 1)).toFixed(4)}, lr ${lr.toExponential(1)}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

// ---- figures: held-out mixtures (the true measure, through dsp.mjs), the bench's cases, speech-b ----
const model = asModel(theta);
const startModel = asModel(Float64Array.from([...init.w1, ...init.b1, ...init.w2, init.b2, ...init.we, ...init.be]));
let vBefore = 0, vAfter = 0;
for (const mm of validMixes) {
  const mix = mm.speech.map((x, i) => x + mm.noise[i]);
  vBefore += logSpectralDistanceDb(mm.speech, run(mix, { model: startModel }).output);
  vAfter += logSpectralDistanceDb(mm.speech, run(mix, { model }).output);
}
const fixture = (name) => readWav16(join(root, 'test', 'fixtures', name)).x;
const report = {};
for (const voice of ['speech-a', 'speech-b']) {
  for (const noiseName of ['pink', 'brown']) {
    for (const snr of [5, 0]) {
      const c = makeNsCase(`${voice}-${noiseName}${snr}`, fixture(`${voice}.wav`), fixture(`noise-${noiseName}.wav`), snr);
      const mix = c.speech.map((x, i) => x + c.noise[i]);
      const r = measureNs(c, run(mix, { speech: c.speech, noise: c.noise, model }));
      report[c.name] = { att: r.attenuationDb, lsd: r.distortionDb, stoi: r.stoi, level: r.speechLevelDb, noisyStoi: r.noisyStoi };
    }
  }
}
process.stdout.write(`${JSON.stringify({ epochs: EPOCHS, lr: LR, chunk: CHUNK, reg: REG, rref: RREF, validLsdBefore: vBefore / validMixes.length, validLsdAfter: vAfter / validMixes.length, report })}\n`);
const saved = { nf: NF, ne: NE, nh: NH, hx: HX, ctxHops: CTX_HOPS, floorDb: FLOOR_T_DB, lnTop: LN_TOP, note: `fine-tuned on the measure, ${EPOCHS} epochs, lr ${LR}`, w1: [...model.w1], b1: [...model.b1], w2: [...model.w2], b2: model.b2, we: [...model.we], be: [...model.be] };
if (str('dump', null)) writeFileSync(str('dump', null), JSON.stringify(saved));
if (!args.includes('--no-write')) {
  writeWeights(saved, OUT);
  log(`wrote ${OUT}`);
}
