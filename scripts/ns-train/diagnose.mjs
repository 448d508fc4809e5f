// Where the suppressor's speech distortion comes from: the bins of the bench's
// log-spectral distance (pink 5 dB, speech-a; 1024-sample Hann frames, 50 Hz –
// 8 kHz, 80 dB floor), grouped by their true local SNR (clean speech over noise
// in that frame and bin), with the share of bins, the mean error (output over
// clean, dB) and the share of the summed squared error.
//
//   node scripts/ns-train/diagnose.mjs [model.json]   (no model: the classic rule)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './dsp.mjs';
import { readWav16 } from './data.mjs';
import { fftInPlace } from '../../dist/host/dsp/spectral.js';
import { makeNsCase, measureNs } from '../../dist/host/dsp/ns-shadow.js';

const root = join(new URL('.', import.meta.url).pathname, '..', '..');
const fx = (n) => readWav16(join(root, 'test', 'fixtures', n)).x;
// 'oracle<dB>' instead of a model: the ideal amplitude mask |S|/|Y| from the true spectra, floored at dB.
const oracleDb = process.argv[2]?.startsWith('oracle') ? Number(process.argv[2].slice(6)) : null;
const model = process.argv[2] && oracleDb === null ? JSON.parse(readFileSync(process.argv[2], 'utf8')) : null;
const noiseName = process.argv[3] ?? 'pink';
const c = makeNsCase('x', fx('speech-a.wav'), fx(`noise-${noiseName}.wav`), 5);
const mix = c.speech.map((v, i) => v + c.noise[i]);
const oracle = (st, t, Y, S) => {
  for (let k = 1; k < 513; k++) {
    const g = Math.sqrt((S.re[k] ** 2 + S.im[k] ** 2) / Math.max(Y.re[k] ** 2 + Y.im[k] ** 2, 1e-30));
    st.gains[k] = Math.min(Math.max(g, 10 ** (-oracleDb / 20)), 1);
  }
};
const r = run(mix, { speech: c.speech, noise: c.noise, model, onHop: oracleDb === null ? null : oracle, gminDb: oracleDb ?? 30 });
console.log(JSON.stringify(measureNs(c, r)));

const N = 1024, H = 512, LO = 1, HI = 171;
const w = Float64Array.from({ length: N }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N));
const spec = (x, s) => {
  const re = new Float64Array(N), im = new Float64Array(N);
  for (let i = 0; i < N; i++) re[i] = (x[s + i] ?? 0) * w[i];
  fftInPlace(re, im);
  return Float64Array.from({ length: N / 2 + 1 }, (_, k) => re[k] * re[k] + im[k] * im[k]);
};
const starts = [];
for (let s = 0; s + N <= c.speech.length; s += H) starts.push(s);
const energies = starts.map((s) => { let e = 0; for (let i = 0; i < N; i++) e += (c.speech[s + i] * w[i]) ** 2; return e; });
const loud = Math.max(...energies);
const frames = starts.filter((_, i) => energies[i] > loud * 1e-4);
let peak = 0;
for (const s of frames) { const p = spec(c.speech, s); for (let k = LO; k <= HI; k++) peak = Math.max(peak, p[k]); }
const floor = peak * 1e-8;
const edges = [-Infinity, -30, -20, -10, 0, 10, 20, Infinity];
const acc = edges.slice(1).map(() => ({ n: 0, err: 0, sq: 0 }));
let total = 0, totalSq = 0;
for (const s of frames) {
  const pc = spec(c.speech, s), pn = spec(c.noise, s), po = spec(r.output, s);
  for (let k = LO; k <= HI; k++) {
    const snr = 10 * Math.log10(Math.max(pc[k], 1e-30) / Math.max(pn[k], 1e-30));
    const d = 10 * Math.log10(Math.max(po[k], floor)) - 10 * Math.log10(Math.max(pc[k], floor));
    const b = edges.findIndex((e, i) => snr >= e && snr < edges[i + 1]);
    acc[b].n++; acc[b].err += d; acc[b].sq += d * d; total++; totalSq += d * d;
  }
}
acc.forEach((a, i) => console.log(`local SNR ${String(edges[i]).padStart(9)} … ${String(edges[i + 1]).padEnd(9)} bins ${(100 * a.n / total).toFixed(1).padStart(5)}%  mean error ${(a.err / Math.max(a.n, 1)).toFixed(1).padStart(6)} dB  share of squared error ${(100 * a.sq / totalSq).toFixed(1).padStart(5)}%`));

// The same frames grouped by the clean frame's level under the loudest: each frame's RMS error
// is one term of the measure's mean, so this shows which frames carry it.
const fEdges = [0, -10, -20, -30, -40];
const fAcc = fEdges.slice(1).map(() => ({ n: 0, rms: 0 }));
let rmsSum = 0;
for (const s of frames) {
  const pc = spec(c.speech, s), po = spec(r.output, s);
  let e = 0, acc2 = 0;
  for (let i = 0; i < N; i++) e += (c.speech[s + i] * w[i]) ** 2;
  for (let k = LO; k <= HI; k++) acc2 += (10 * Math.log10(Math.max(po[k], floor)) - 10 * Math.log10(Math.max(pc[k], floor))) ** 2;
  const rms = Math.sqrt(acc2 / (HI - LO + 1));
  const lvl = 10 * Math.log10(e / loud);
  const g = Math.min(fAcc.length - 1, Math.floor(-lvl / 10));
  fAcc[g].n++; fAcc[g].rms += rms; rmsSum += rms;
}
fAcc.forEach((a, i) => console.log(`frames ${String(fEdges[i]).padStart(4)} … ${String(fEdges[i + 1]).padEnd(4)} dB: ${(100 * a.n / frames.length).toFixed(1).padStart(5)}% of frames, mean RMS error ${(a.rms / Math.max(a.n, 1)).toFixed(1).padStart(5)} dB, share of the measure ${(100 * a.rms / rmsSum).toFixed(1).padStart(5)}%`));

// And by frequency: mean error and share of the squared error in four ranges of the measure's band.
const kEdges = [1, 6, 22, 65, 172];
const kAcc = kEdges.slice(1).map(() => ({ n: 0, err: 0, sq: 0 }));
for (const s of frames) {
  const pc = spec(c.speech, s), po = spec(r.output, s);
  for (let k = LO; k <= HI; k++) {
    const d = 10 * Math.log10(Math.max(po[k], floor)) - 10 * Math.log10(Math.max(pc[k], floor));
    const b = kEdges.findIndex((e, i) => k >= e && k < kEdges[i + 1]);
    kAcc[b].n++; kAcc[b].err += d; kAcc[b].sq += d * d;
  }
}
kAcc.forEach((a, i) => console.log(`${Math.round(kEdges[i] * 46.875)}–${Math.round(kEdges[i + 1] * 46.875)} Hz: mean error ${(a.err / a.n).toFixed(1).padStart(6)} dB, RMS ${Math.sqrt(a.sq / a.n).toFixed(1).padStart(5)} dB, share of squared error ${(100 * a.sq / totalSq).toFixed(1).padStart(5)}%`));
