// Trains the noise suppressor's learned gain (guests/ns/model.ts) and writes
// its weights to guests/ns/model-weights.ts.
//
//   npx tsc -p tsconfig.json && node scripts/ns-train/train.mjs [--epochs N] [--seed S] [--out FILE] [--no-write]
//
// Data (data.mjs): espeak-ng speech and our own seeded noise, nothing from
// test/fixtures. Per hop and bin (1..KMAX-1) the input is the features of
// dsp.mjs (causal: this hop and the two before) and the target is the ideal
// amplitude mask ln clip(|S|/|Y|, −30 dB, 1) of that hop's spectra. The loss is
// the squared error of the log gain: the bench's distortion measure is a
// log-spectral distance, so the log domain is where an error costs what it
// costs there. One in seven mixtures (by index) is held out for validation.
//
// At the end the trained model runs (in dsp.mjs, float64) over the bench's
// four cases and over speech-b, which the training never saw either, and the
// figures are printed with the shipped classic rule beside them. The bench
// (node dist/bench/dsp-quality.js --ns-only) measures the guest itself after
// a rebuild; it is what counts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CTX_HOPS, FLOOR_T_DB, HX, KMAX, LN_FLOOR_T, LN_TOP, NE, NF, NH, NIN, act, actDeriv, run } from './dsp.mjs';
import { mixtures, readWav16, utterances } from './data.mjs';
import { writeWeights } from './write-weights.mjs';
import { rng } from '../../dist/host/dsp/room.js';
import { makeNsCase, measureNs } from '../../dist/host/dsp/ns-shadow.js';

const root = join(new URL('.', import.meta.url).pathname, '..', '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const EPOCHS = opt('epochs', 8);
const SEED = opt('seed', 1);
const KEEP = opt('keep', 0.35); // the fraction of (hop, bin) samples kept
const BATCH = opt('batch', 256);
const LR = opt('lr', 2e-3);
/** maxAttenuationDb for the evaluation runs (the guest's default). */
const GMIN_DB = opt('gmin-db', 30);
const SPEECH_WEIGHT = opt('speech-weight', 1);
/**
 * --loss frame-rms: the scored samples of a hop (see collect) cost the RMS of their errors
 * rather than the sum of their squares, as the bench's measure is the mean over frames of each
 * frame's RMS log-spectral error. Its gradient is the squared loss's scaled by RREF / rms(hop):
 * a frame already close counts more, a frame nobody can get right (weak speech under the
 * noise everywhere) less. RREF (ln units) keeps the scale of the squared loss.
 */
const lossAt = args.indexOf('--loss');
const LOSS = lossAt >= 0 ? args[lossAt + 1] : 'sq';
const RREF = opt('rref', 1.2);
const RMS_EPS = opt('rms-eps', 0.1);
const targetAt = args.indexOf('--target');
const TARGET = targetAt >= 0 ? args[targetAt + 1] : 'lsd';
const outAt = args.indexOf('--out');
const OUT = outAt >= 0 ? args[outAt + 1] : join(root, 'guests', 'ns', 'model-weights.ts');
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

// ---- data → (features, target) ----
const t0 = Date.now();
const mixes = mixtures(utterances(opt('voices', 2)), { repeats: opt('repeats', 2) });
log(`${mixes.length} mixtures, ${((Date.now() - t0) / 1000).toFixed(1)} s`);

/**
 * Samples of the mixtures, grouped by hop: per sample its NF features, target and weight;
 * per hop the context network's HX inputs and where its samples start. The weight is
 * SPEECH_WEIGHT for bins the bench's distortion measure scores (1..170, 47 Hz – 8 kHz, in
 * hops whose clean speech is within 40 dB of the mixture's loudest hop) and 1 elsewhere
 * (noise-only hops and bins over 8 kHz, where only the attenuation is scored).
 */
function collect(list, keep, seed) {
  const u = rng(seed);
  const chunks = [];
  let n = 0;
  let hops = 0;
  for (const m of list) {
    const mix = m.speech.map((v, i) => v + m.noise[i]);
    const feats = [];
    const targ = [];
    const hopOf = [];
    const binOf = [];
    const hopEnergy = [];
    const hopX = [];
    const starts = [];
    const sPow = [];
    const yPow = [];
    let peak = 0;
    const f = new Float64Array(NF);
    const hx = new Float64Array(HX);
    run(mix, {
      speech: m.speech,
      synth: false,
      onHop: (st, t, Y, S) => {
        let e = 0;
        for (let k = 0; k < 513; k++) e += S.re[k] * S.re[k] + S.im[k] * S.im[k];
        hopEnergy.push(e);
        st.hopInputs(hx, 0);
        for (let i = 0; i < HX; i++) hopX.push(hx[i]);
        starts.push(targ.length);
        for (let k = 1; k < KMAX; k++) {
          if (u() >= keep) continue;
          st.features(k, f, 0);
          const py = Y.re[k] * Y.re[k] + Y.im[k] * Y.im[k];
          const ps = S.re[k] * S.re[k] + S.im[k] * S.im[k];
          for (let i = 0; i < NF; i++) feats.push(f[i]);
          targ.push(0);
          sPow.push(ps);
          yPow.push(py);
          if (k <= 170) peak = Math.max(peak, ps);
          hopOf.push(t);
          binOf.push(k);
        }
      },
    });
    // The target: ln(|S|/|Y|), at most 0. TARGET 'lsd': |S|² floored, as the bench's distortion
    // measure floors it, 80 dB under the mixture's loudest speech bin, and not clipped at the
    // model's lowest gain, so that a gain held at −30 dB over speech 45 dB under the noise costs
    // what it costs in the measure. TARGET 'mask': the ideal mask clipped to [LN_FLOOR_T, 0].
    for (let i = 0; i < targ.length; i++) {
      const ln = TARGET === 'lsd'
        ? 0.5 * Math.log(Math.max(sPow[i], peak * 1e-8) / Math.max(yPow[i], 1e-30))
        : Math.max(0.5 * Math.log(Math.max(sPow[i], 1e-30) / Math.max(yPow[i], 1e-30)), LN_FLOOR_T);
      targ[i] = Math.min(ln, 0);
    }
    const loudest = Math.max(...hopEnergy);
    const scored = Uint8Array.from(targ, (_, i) => (binOf[i] <= 170 && hopEnergy[hopOf[i]] > loudest * 1e-4 ? 1 : 0));
    const w = Float32Array.from(scored, (sc) => (sc ? SPEECH_WEIGHT : 1));
    chunks.push({ x: Float32Array.from(feats), y: Float32Array.from(targ), w, scored, hx: Float32Array.from(hopX), starts });
    n += targ.length;
    hops += starts.length;
  }
  const x = new Float32Array(n * NF);
  const y = new Float32Array(n);
  const w = new Float32Array(n);
  const scored = new Uint8Array(n);
  const hx = new Float32Array(hops * HX);
  const start = new Uint32Array(hops + 1);
  let at = 0;
  let h = 0;
  for (const c of chunks) {
    x.set(c.x, at * NF);
    y.set(c.y, at);
    w.set(c.w, at);
    scored.set(c.scored, at);
    hx.set(c.hx, h * HX);
    for (const s0 of c.starts) start[h++] = at + s0;
    at += c.y.length;
  }
  start[hops] = n;
  return { x, y, w, scored, hx, start, n, hops };
}
const train = collect(mixes.filter((_, i) => i % 7 !== 3), KEEP, SEED);
const valid = collect(mixes.filter((_, i) => i % 7 === 3), 0.1, SEED + 1);
log(`features: ${train.n} training, ${valid.n} validation samples, ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// ---- the model: context HX → NE per hop; bin NIN = NF + NE → NH (Padé tanh) → 1 → log gain ----
const W1 = 0, B1 = NH * NIN, W2 = B1 + NH, B2 = W2 + NH, WE = B2 + 1, BE = WE + NE * HX;
const P = BE + NE;
const theta = new Float64Array(P);
{
  const u = rng(SEED + 100);
  const a1 = Math.sqrt(6 / (NIN + NH));
  for (let i = 0; i < NH * NIN; i++) theta[W1 + i] = (2 * u() - 1) * a1;
  const a2 = Math.sqrt(6 / (NH + 1));
  for (let j = 0; j < NH; j++) theta[W2 + j] = (2 * u() - 1) * a2;
  const ae = Math.sqrt(6 / (HX + NE));
  for (let i = 0; i < NE * HX; i++) theta[WE + i] = (2 * u() - 1) * ae;
}
const asModel = (th) => ({ w1: th.subarray(W1, B1), b1: th.subarray(B1, W2), w2: th.subarray(W2, B2), b2: th[B2], we: th.subarray(WE, BE), be: th.subarray(BE, P) });

// Per-sample buffers of one hop (a hop has at most KMAX − 1 samples).
const HU = new Float64Array((KMAX - 1) * NH);
const HH = new Float64Array((KMAX - 1) * NH);
const ERR = new Float64Array(KMAX - 1);
const SIG = new Float64Array(KMAX - 1);
const eu = new Float64Array(NE);
const v = new Float64Array(NIN);
const dE = new Float64Array(NE);
/** Adds the loss gradient of hop h's samples to grad (when given); returns their loss (see LOSS). */
function hopGrad(th, d, h, grad) {
  const xAt = h * HX;
  for (let q = 0; q < NE; q++) {
    let u = th[BE + q];
    const row = WE + q * HX;
    for (let i = 0; i < HX; i++) u += th[row + i] * d.hx[xAt + i];
    eu[q] = u;
    v[NF + q] = act(u);
  }
  const first = d.start[h];
  const count = d.start[h + 1] - first;
  // Forward: every sample's hidden units, output and error.
  let sqScored = 0;
  let wScored = 0;
  let loss = 0;
  for (let c = 0; c < count; c++) {
    const i = first + c;
    const at = i * NF;
    for (let q = 0; q < NF; q++) v[q] = d.x[at + q];
    let z = th[B2];
    for (let j = 0; j < NH; j++) {
      let a = th[B1 + j];
      const row = W1 + j * NIN;
      for (let q = 0; q < NIN; q++) a += th[row + q] * v[q];
      HU[c * NH + j] = a;
      const hj = act(a);
      HH[c * NH + j] = hj;
      z += th[W2 + j] * hj;
    }
    const s = 1 / (1 + Math.exp(-z));
    const e = LN_FLOOR_T + s * (LN_TOP - LN_FLOOR_T) - d.y[i];
    SIG[c] = s;
    ERR[c] = e;
    if (LOSS === 'frame-rms' && d.scored[i]) {
      sqScored += d.w[i] * e * e;
      wScored += d.w[i];
    } else {
      loss += d.w[i] * e * e;
    }
  }
  // frame-rms: the scored samples cost 2·RREF·Σw·rms, whose gradient is the squared loss's × RREF/rms.
  let scale = 1;
  if (wScored > 0) {
    const rms = Math.sqrt(sqScored / wScored);
    loss += 2 * RREF * wScored * rms;
    scale = RREF / Math.max(rms, RMS_EPS);
  }
  if (!grad) return loss;
  dE.fill(0);
  for (let c = 0; c < count; c++) {
    const i = first + c;
    const at = i * NF;
    for (let q = 0; q < NF; q++) v[q] = d.x[at + q];
    const s = SIG[c];
    const k = LOSS === 'frame-rms' && d.scored[i] ? scale : 1;
    const dz = 2 * k * d.w[i] * ERR[c] * (LN_TOP - LN_FLOOR_T) * s * (1 - s);
    grad[B2] += dz;
    for (let j = 0; j < NH; j++) {
      grad[W2 + j] += dz * HH[c * NH + j];
      const du = dz * th[W2 + j] * actDeriv(HU[c * NH + j]);
      grad[B1 + j] += du;
      const row = W1 + j * NIN;
      for (let q = 0; q < NIN; q++) grad[row + q] += du * v[q];
      for (let q = 0; q < NE; q++) dE[q] += du * th[row + NF + q];
    }
  }
  for (let q = 0; q < NE; q++) {
    const du = dE[q] * actDeriv(eu[q]);
    grad[BE + q] += du;
    const row = WE + q * HX;
    for (let i = 0; i < HX; i++) grad[row + i] += du * d.hx[xAt + i];
  }
  return loss;
}
function meanLoss(th, d) {
  let s = 0;
  for (let h = 0; h < d.hops; h++) s += hopGrad(th, d, h, null);
  return s / d.w.reduce((a, b) => a + b, 0);
}

// Adam over batches of HOPS_PER_BATCH whole hops, the learning rate halved for each of the last three epochs.
const HOPS_PER_BATCH = Math.max(1, Math.round(BATCH / (KEEP * (KMAX - 1))));
const trainWeight = train.w.reduce((a, b) => a + b, 0);
const m1 = new Float64Array(P);
const m2 = new Float64Array(P);
const grad = new Float64Array(P);
let step = 0;
const order = new Uint32Array(train.hops);
for (let i = 0; i < train.hops; i++) order[i] = i;
const shuf = rng(SEED + 200);
for (let ep = 0; ep < EPOCHS; ep++) {
  for (let i = train.hops - 1; i > 0; i--) {
    const j = Math.floor(shuf() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const lr = LR * 0.5 ** Math.max(0, ep - (EPOCHS - 4));
  let sum = 0;
  for (let b = 0; b + HOPS_PER_BATCH <= train.hops; b += HOPS_PER_BATCH) {
    grad.fill(0);
    let count = 0;
    for (let q = 0; q < HOPS_PER_BATCH; q++) {
      const h = order[b + q];
      sum += hopGrad(theta, train, h, grad);
      count += train.start[h + 1] - train.start[h];
    }
    if (count === 0) continue;
    step++;
    const c1 = 1 - 0.9 ** step;
    const c2 = 1 - 0.999 ** step;
    for (let p = 0; p < P; p++) {
      const g = grad[p] / count;
      m1[p] = 0.9 * m1[p] + 0.1 * g;
      m2[p] = 0.999 * m2[p] + 0.001 * g * g;
      theta[p] -= (lr * (m1[p] / c1)) / (Math.sqrt(m2[p] / c2) + 1e-8);
    }
  }
  log(`epoch ${ep + 1}/${EPOCHS}: train ${(sum / trainWeight).toFixed(4)}, valid ${meanLoss(theta, valid).toFixed(4)} (ln² units), lr ${lr.toExponential(1)}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

// ---- figures on the bench's cases and on held-out speech-b ----
const fixture = (n) => readWav16(join(root, 'test', 'fixtures', n)).x;
const model = asModel(theta);
const report = {};
for (const voice of ['speech-a', 'speech-b']) {
  for (const noiseName of ['pink', 'brown']) {
    for (const snr of [5, 0]) {
      const c = makeNsCase(`${voice}-${noiseName}${snr}`, fixture(`${voice}.wav`), fixture(`noise-${noiseName}.wav`), snr);
      const mix = c.speech.map((v, i) => v + c.noise[i]);
      const learned = measureNs(c, run(mix, { speech: c.speech, noise: c.noise, model, gminDb: GMIN_DB }));
      const classic = measureNs(c, run(mix, { speech: c.speech, noise: c.noise, gminDb: GMIN_DB }));
      report[c.name] = {
        learned: { att: learned.attenuationDb, lsd: learned.distortionDb, stoi: learned.stoi, level: learned.speechLevelDb },
        classic: { att: classic.attenuationDb, lsd: classic.distortionDb, stoi: classic.stoi, level: classic.speechLevelDb },
        noisyStoi: learned.noisyStoi,
      };
    }
  }
}
process.stdout.write(`${JSON.stringify({ seed: SEED, epochs: EPOCHS, loss: LOSS, rref: RREF, keep: KEEP, target: TARGET, speechWeight: SPEECH_WEIGHT, gminDb: GMIN_DB, nf: NF, ne: NE, nh: NH, ctxHops: CTX_HOPS, floorDb: FLOOR_T_DB, top: LN_TOP, valid: meanLoss(theta, valid), report })}\n`);

const saved = { nf: NF, ne: NE, nh: NH, hx: HX, ctxHops: CTX_HOPS, floorDb: FLOOR_T_DB, lnTop: LN_TOP, note: `seed ${SEED}, ${EPOCHS} epochs, ${train.n} samples, target ${TARGET}`, w1: [...model.w1], b1: [...model.b1], w2: [...model.w2], b2: model.b2, we: [...model.we], be: [...model.be] };
const dumpAt = args.indexOf('--dump');
if (dumpAt >= 0) writeFileSync(args[dumpAt + 1], JSON.stringify(saved));
if (!args.includes('--no-write')) {
  writeWeights(saved, OUT);
  log(`wrote ${OUT}`);
}
