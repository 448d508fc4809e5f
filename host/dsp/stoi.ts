// Short-Time Objective Intelligibility (Taal, Hendriks, Heusdens, Jensen,
// IEEE TASLP 2011), computed step for step as the reference MATLAB code and
// its Python port pystoi 0.4.1 do, so that our figures can be compared with
// published ones (test/dsp/stoi.test.ts checks it against pystoi):
//   1. resample to 10 kHz (pystoi's Octave-compatible polyphase resampler:
//      Kaiser-windowed sinc, 60 dB rejection, scipy's resample_poly alignment);
//   2. drop frames (256 samples, Hann, hop 128) of the clean signal more than
//      40 dB below its loudest frame, in both signals, and overlap-add the rest;
//   3. short-time DFT (256-sample Hann frames, hop 128, 512-point FFT);
//   4. 15 one-third-octave bands from 150 Hz (band edges snapped to DFT bins);
//   5. for every 30-frame (384 ms) segment and band: scale the processed
//      envelope to the clean one's energy, clip it at −15 dB SDR, correlate;
//   6. the mean of all correlations.
import { fftInPlace } from './spectral.js';

const FS = 10_000;
const N_FRAME = 256;
const NFFT = 512;
const NUM_BANDS = 15;
const MIN_FREQ = 150;
const N_SEG = 30;
const BETA_DB = -15;
const DYN_RANGE_DB = 40;
const EPS = 2.220446049250313e-16;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for the β used here). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** pystoi's _resample_window_oct(p, q): the anti-aliasing filter of Octave's resample(), normalised to unit sum. */
function resampleWindow(p: number, q: number): Float64Array {
  const stopband = 1 / (2 * Math.max(p, q));
  const rolloff = stopband / 10;
  const rejectionDb = 60;
  const L = Math.ceil((rejectionDb - 8) / (28.714 * rolloff));
  const beta = 0.1102 * (rejectionDb - 8.7);
  const M = 2 * L + 1;
  const h = new Float64Array(M);
  const i0b = besselI0(beta);
  let sum = 0;
  for (let n = 0; n < M; n++) {
    const t = n - L;
    const r = (2 * n) / (M - 1) - 1;
    const kaiser = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b;
    h[n] = kaiser * 2 * p * stopband * sinc(2 * stopband * t);
    sum += h[n]!;
  }
  for (let n = 0; n < M; n++) h[n]! /= sum;
  return h;
}

/** scipy.signal.resample_poly(x, up, down, window=h) with zero padding: output sample o is centred on input o·down/up. */
export function resamplePoly(x: ArrayLike<number>, up: number, down: number): Float64Array {
  const g = gcd(up, down);
  const p = up / g;
  const q = down / g;
  if (p === 1 && q === 1) return Float64Array.from(x);
  const h = resampleWindow(p, q);
  const halfLen = (h.length - 1) >> 1;
  const prePad = q - (halfLen % q);
  const preRemove = Math.floor((halfLen + prePad) / q);
  const nIn = x.length;
  const nOut = Math.ceil((nIn * p) / q);
  const y = new Float64Array(nOut);
  const hLen = h.length;
  for (let o = 0; o < nOut; o++) {
    const m = (o + preRemove) * q - prePad; // index into the unpadded h: j = m - n·p
    let nLo = Math.ceil((m - (hLen - 1)) / p);
    let nHi = Math.floor(m / p);
    if (nLo < 0) nLo = 0;
    if (nHi > nIn - 1) nHi = nIn - 1;
    let s = 0;
    for (let n = nLo; n <= nHi; n++) s += x[n]! * h[m - n * p]!;
    y[o] = s * p;
  }
  return y;
}

/** MATLAB hanning(n): the symmetric Hann window without its zero end points. */
function hanning(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 1)) / (n + 1));
  return w;
}

/** Band matrix of thirdoct(): for each band, the first and one-past-last DFT bin. */
function thirdOctaveBands(): Array<[number, number]> {
  const bins = NFFT / 2 + 1;
  const nearest = (freq: number): number => {
    let best = 0;
    let bestD = Infinity;
    for (let b = 0; b < bins; b++) {
      const d = ((b * FS) / NFFT - freq) ** 2;
      if (d < bestD) {
        bestD = d;
        best = b;
      }
    }
    return best;
  };
  const bands: Array<[number, number]> = [];
  for (let k = 0; k < NUM_BANDS; k++) {
    const lo = MIN_FREQ * 2 ** ((2 * k - 1) / 6);
    const hi = MIN_FREQ * 2 ** ((2 * k + 1) / 6);
    bands.push([nearest(lo), nearest(hi)]);
  }
  return bands;
}

const BANDS = thirdOctaveBands();

function removeSilentFrames(x: Float64Array, y: Float64Array): [Float64Array, Float64Array] {
  const hop = N_FRAME / 2;
  const w = hanning(N_FRAME);
  const starts: number[] = [];
  for (let i = 0; i < x.length - N_FRAME; i += hop) starts.push(i);
  const energy = starts.map((s) => {
    let e = 0;
    for (let n = 0; n < N_FRAME; n++) e += (w[n]! * x[s + n]!) ** 2;
    return 20 * Math.log10(Math.sqrt(e) + EPS);
  });
  const maxE = Math.max(...energy);
  const kept = starts.filter((_, i) => maxE - DYN_RANGE_DB - energy[i]! < 0);
  const len = kept.length ? (kept.length - 1) * hop + N_FRAME : 0;
  const xs = new Float64Array(len);
  const ys = new Float64Array(len);
  kept.forEach((s, c) => {
    for (let n = 0; n < N_FRAME; n++) {
      xs[c * hop + n]! += x[s + n]! * w[n]!;
      ys[c * hop + n]! += y[s + n]! * w[n]!;
    }
  });
  return [xs, ys];
}

/** One-third-octave band envelopes: bands × frames (row-major). */
function bandEnvelopes(x: Float64Array): { env: Float64Array; frames: number } {
  const hop = N_FRAME / 2;
  const w = hanning(N_FRAME);
  const frames = Math.max(0, Math.ceil((x.length - N_FRAME) / hop));
  const env = new Float64Array(NUM_BANDS * frames);
  const re = new Float64Array(NFFT);
  const im = new Float64Array(NFFT);
  for (let f = 0; f < frames; f++) {
    re.fill(0);
    im.fill(0);
    for (let n = 0; n < N_FRAME; n++) re[n] = x[f * hop + n]! * w[n]!;
    fftInPlace(re, im);
    for (let b = 0; b < NUM_BANDS; b++) {
      const [lo, hi] = BANDS[b]!;
      let s = 0;
      for (let k = lo; k < hi; k++) s += re[k]! * re[k]! + im[k]! * im[k]!;
      env[b * frames + f] = Math.sqrt(s);
    }
  }
  return { env, frames };
}

/**
 * STOI of `processed` against `clean` (same length, sample rate `fs`), in
 * [−1, 1], about 0.4–1 for speech. Returns 1e-5 (pystoi's value) when fewer
 * than 30 frames remain after silent-frame removal.
 */
export function stoi(clean: ArrayLike<number>, processed: ArrayLike<number>, fs: number): number {
  if (clean.length !== processed.length) throw new Error(`stoi: signals differ in length (${clean.length} vs ${processed.length})`);
  let x = fs === FS ? Float64Array.from(clean) : resamplePoly(clean, FS, fs);
  let y = fs === FS ? Float64Array.from(processed) : resamplePoly(processed, FS, fs);
  [x, y] = removeSilentFrames(x, y);
  const X = bandEnvelopes(x);
  const Y = bandEnvelopes(y);
  const frames = X.frames;
  if (frames < N_SEG) return 1e-5;
  const clip = 10 ** (-BETA_DB / 20);
  const xs = new Float64Array(N_SEG);
  const ys = new Float64Array(N_SEG);
  let total = 0;
  const segments = frames - N_SEG + 1;
  for (let m = N_SEG; m <= frames; m++) {
    for (let b = 0; b < NUM_BANDS; b++) {
      const row = b * frames + m - N_SEG;
      let ex = 0;
      let ey = 0;
      for (let n = 0; n < N_SEG; n++) {
        xs[n] = X.env[row + n]!;
        ys[n] = Y.env[row + n]!;
        ex += xs[n]! * xs[n]!;
        ey += ys[n]! * ys[n]!;
      }
      const alpha = Math.sqrt(ex) / (Math.sqrt(ey) + EPS);
      let mx = 0;
      let my = 0;
      for (let n = 0; n < N_SEG; n++) {
        ys[n] = Math.min(ys[n]! * alpha, xs[n]! * (1 + clip));
        mx += xs[n]!;
        my += ys[n]!;
      }
      mx /= N_SEG;
      my /= N_SEG;
      let sxy = 0;
      let sxx = 0;
      let syy = 0;
      for (let n = 0; n < N_SEG; n++) {
        const a = xs[n]! - mx;
        const c = ys[n]! - my;
        sxy += a * c;
        sxx += a * a;
        syy += c * c;
      }
      total += sxy / ((Math.sqrt(sxx) + EPS) * (Math.sqrt(syy) + EPS));
    }
  }
  return total / (NUM_BANDS * segments);
}
